/// The OpenAPI 3.1 description of every route, written by hand (served at `/openapi.json`).
/// Keep it in step with the request types: the fuzz test generates requests from it.
enum OpenAPIDocument {
  static let json = #"""
    {
      "openapi": "3.1.0",
      "info": {"title": "Peregrine", "version": "0.1.0", "description": "OpenAI-compatible inference server for GGUF models on CPUs."},
      "servers": [{"url": "/"}],
      "components": {
        "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        "schemas": {
          "Error": {"type": "object", "required": ["error"], "properties": {"error": {"type": "object",
            "required": ["message", "type"], "properties": {"message": {"type": "string"}, "type": {"type": "string"},
            "param": {"type": ["string", "null"]}, "code": {"type": ["string", "null"]}}}}},
          "Stop": {"oneOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}, "maxItems": 16}]},
          "StreamOptions": {"type": "object", "properties": {"include_usage": {"type": "boolean"}}},
          "ResponseFormat": {"type": "object", "required": ["type"], "properties": {
            "type": {"type": "string", "enum": ["text", "json_object", "json_schema"]},
            "json_schema": {"type": "object", "properties": {"name": {"type": "string"}, "description": {"type": "string"},
              "schema": {"type": "object"}, "strict": {"type": "boolean"}}}}},
          "Sampling": {"type": "object", "properties": {
            "model": {"type": "string"},
            "temperature": {"type": "number", "minimum": 0, "maximum": 2},
            "top_p": {"type": "number", "minimum": 1e-45, "maximum": 1, "description": "Above 0 once read as a 32-bit float."},
            "top_k": {"type": "integer", "minimum": -1},
            "min_p": {"type": "number", "minimum": 0, "maximum": 1},
            "n": {"type": "integer", "minimum": 1, "maximum": 16},
            "stop": {"$ref": "#/components/schemas/Stop"},
            "seed": {"type": "integer"},
            "presence_penalty": {"type": "number", "minimum": -2, "maximum": 2},
            "frequency_penalty": {"type": "number", "minimum": -2, "maximum": 2},
            "repetition_penalty": {"type": "number", "minimum": 1e-45, "maximum": 10},
            "logit_bias": {"type": "object", "propertyNames": {"pattern": "^[0-9]{1,10}$"},
              "additionalProperties": {"type": "number", "minimum": -100, "maximum": 100},
              "description": "Token id (0 to the vocabulary size - 1) to a bias."},
            "user": {"type": "string", "maxLength": 256},
            "cache_salt": {"type": "string", "minLength": 1, "maxLength": 512, "description": "vLLM's extension: cached prompt blocks are shared only between requests with equal salts (and API key, unless the server shares one namespace)."},
            "ignore_eos": {"type": "boolean"},
            "response_format": {"$ref": "#/components/schemas/ResponseFormat"},
            "stream": {"type": "boolean"},
            "stream_options": {"$ref": "#/components/schemas/StreamOptions"},
            "speculative": {"type": "string", "enum": ["ngram", "draft_model", "none"], "description": "Extension: speculative decoding (default: the server's)."},
            "draft_tokens": {"type": "integer", "minimum": 1, "maximum": 64, "description": "Extension: draft tokens per target pass at most."}}},
          "ChatMessage": {"type": "object", "required": ["role"],
            "if": {"properties": {"role": {"const": "assistant"}}}, "else": {"required": ["content"]}, "properties": {
            "role": {"type": "string", "enum": ["system", "developer", "user", "assistant"]},
            "content": {"oneOf": [{"type": "string"}, {"type": "null"}, {"type": "array", "items": {"type": "object",
              "required": ["type"], "properties": {"type": {"type": "string", "enum": ["text"]}, "text": {"type": "string"}}}}]},
            "name": {"type": "string"}}},
          "ChatCompletionRequest": {"allOf": [{"$ref": "#/components/schemas/Sampling"}, {"type": "object",
            "required": ["messages"], "properties": {
              "messages": {"type": "array", "minItems": 1, "items": {"$ref": "#/components/schemas/ChatMessage"}},
              "max_tokens": {"type": "integer", "minimum": 1},
              "max_completion_tokens": {"type": "integer", "minimum": 1},
              "logprobs": {"type": "boolean"},
              "top_logprobs": {"type": "integer", "minimum": 0, "maximum": 20}}}]},
          "CompletionRequest": {"allOf": [{"$ref": "#/components/schemas/Sampling"}, {"type": "object",
            "required": ["prompt"], "properties": {
              "prompt": {"oneOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}},
                {"type": "array", "items": {"type": "integer", "minimum": 0, "maximum": 2147483647}},
                {"type": "array", "items": {"type": "array", "items": {"type": "integer", "minimum": 0, "maximum": 2147483647}}}]},
              "suffix": {"type": "string"},
              "max_tokens": {"type": "integer", "minimum": 1},
              "best_of": {"type": "integer", "minimum": 1},
              "logprobs": {"type": "integer", "minimum": 0, "maximum": 20},
              "echo": {"type": "boolean"}}}]},
          "Usage": {"type": "object", "required": ["prompt_tokens", "completion_tokens", "total_tokens"], "properties": {
            "prompt_tokens": {"type": "integer"}, "completion_tokens": {"type": "integer"}, "total_tokens": {"type": "integer"},
            "prompt_tokens_details": {"type": "object", "properties": {"cached_tokens": {"type": "integer"}}}}},
          "Timings": {"type": "object", "description": "Extension: where the time of one choice went.", "properties": {
            "queue_s": {"type": "number"}, "ttft_s": {"type": "number"}, "e2e_s": {"type": "number"},
            "prompt_n": {"type": "integer"}, "cached_n": {"type": "integer"}, "predicted_n": {"type": "integer"},
            "prompt_ms": {"type": "number"}, "prompt_per_second": {"type": "number"},
            "predicted_ms": {"type": "number"}, "predicted_per_second": {"type": "number"},
            "draft_n": {"type": "integer"}, "draft_n_accepted": {"type": "integer"},
            "acceptance_rate": {"type": "number"}, "mean_accepted_length": {"type": "number"}}},
          "ChatCompletion": {"type": "object", "required": ["id", "object", "created", "model", "choices", "usage"], "properties": {
            "id": {"type": "string"}, "object": {"const": "chat.completion"}, "created": {"type": "integer"},
            "model": {"type": "string"}, "usage": {"$ref": "#/components/schemas/Usage"},
            "timings": {"$ref": "#/components/schemas/Timings"},
            "choices": {"type": "array", "items": {"type": "object", "properties": {
              "index": {"type": "integer"}, "finish_reason": {"type": "string"},
              "message": {"type": "object", "properties": {"role": {"type": "string"}, "content": {"type": "string"}}},
              "logprobs": {"type": ["object", "null"]}}}}}},
          "Completion": {"type": "object", "required": ["id", "object", "created", "model", "choices"], "properties": {
            "id": {"type": "string"}, "object": {"const": "text_completion"}, "created": {"type": "integer"},
            "model": {"type": "string"}, "usage": {"$ref": "#/components/schemas/Usage"},
            "timings": {"$ref": "#/components/schemas/Timings"},
            "choices": {"type": "array", "items": {"type": "object", "properties": {
              "index": {"type": "integer"}, "text": {"type": "string"}, "finish_reason": {"type": "string"},
              "logprobs": {"type": ["object", "null"]}}}}}}
        },
        "responses": {
          "BadRequest": {"description": "Invalid parameter, or prompt plus max_tokens over the context length.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
          "Unauthorized": {"description": "Missing or wrong API key.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
          "NotFound": {"description": "Unknown model.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
          "TooLarge": {"description": "Body over the size limit.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
          "QueueFull": {"description": "The engine's queue is full; see Retry-After.", "headers": {"Retry-After": {"schema": {"type": "integer"}}}, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
          "Loading": {"description": "The model is still loading.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
        }
      },
      "security": [{"bearer": []}],
      "paths": {
        "/v1/chat/completions": {"post": {"operationId": "createChatCompletion", "summary": "Chat completion, whole or streamed over SSE.",
          "requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ChatCompletionRequest"}}}},
          "responses": {"200": {"description": "A completion (JSON) or a stream of chunks (text/event-stream) ending with data: [DONE].",
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ChatCompletion"}}, "text/event-stream": {"schema": {"type": "string"}}}},
            "400": {"$ref": "#/components/responses/BadRequest"}, "401": {"$ref": "#/components/responses/Unauthorized"},
            "404": {"$ref": "#/components/responses/NotFound"}, "413": {"$ref": "#/components/responses/TooLarge"},
            "429": {"$ref": "#/components/responses/QueueFull"}, "503": {"$ref": "#/components/responses/Loading"}}}},
        "/v1/completions": {"post": {"operationId": "createCompletion", "summary": "Text completion, whole or streamed over SSE.",
          "requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/CompletionRequest"}}}},
          "responses": {"200": {"description": "A completion (JSON) or a stream of chunks (text/event-stream) ending with data: [DONE].",
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Completion"}}, "text/event-stream": {"schema": {"type": "string"}}}},
            "400": {"$ref": "#/components/responses/BadRequest"}, "401": {"$ref": "#/components/responses/Unauthorized"},
            "404": {"$ref": "#/components/responses/NotFound"}, "413": {"$ref": "#/components/responses/TooLarge"},
            "429": {"$ref": "#/components/responses/QueueFull"}, "503": {"$ref": "#/components/responses/Loading"}}}},
        "/v1/models": {"get": {"operationId": "listModels", "summary": "The served model.",
          "responses": {"200": {"description": "Model list.", "content": {"application/json": {"schema": {"type": "object",
            "properties": {"object": {"const": "list"}, "data": {"type": "array", "items": {"type": "object"}}}}}}},
            "401": {"$ref": "#/components/responses/Unauthorized"}}}},
        "/v1/models/{id}": {"get": {"operationId": "retrieveModel", "summary": "One model by id.",
          "parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "string"}}],
          "responses": {"200": {"description": "The model.", "content": {"application/json": {"schema": {"type": "object"}}}},
            "401": {"$ref": "#/components/responses/Unauthorized"}, "404": {"$ref": "#/components/responses/NotFound"}}}},
        "/tokenize": {"post": {"operationId": "tokenize", "summary": "Text or chat messages to token ids.",
          "requestBody": {"required": true, "content": {"application/json": {"schema": {"type": "object", "properties": {
            "model": {"type": "string"}, "prompt": {"type": "string"}, "content": {"type": "string"},
            "messages": {"type": "array", "minItems": 1, "items": {"$ref": "#/components/schemas/ChatMessage"}},
            "add_special_tokens": {"type": "boolean"}}}}}},
          "responses": {"200": {"description": "Token ids.", "content": {"application/json": {"schema": {"type": "object", "properties": {
            "tokens": {"type": "array", "items": {"type": "integer"}}, "count": {"type": "integer"}, "max_model_len": {"type": "integer"}}}}}},
            "400": {"$ref": "#/components/responses/BadRequest"}, "401": {"$ref": "#/components/responses/Unauthorized"},
            "404": {"$ref": "#/components/responses/NotFound"}, "413": {"$ref": "#/components/responses/TooLarge"},
            "503": {"$ref": "#/components/responses/Loading"}}}},
        "/detokenize": {"post": {"operationId": "detokenize", "summary": "Token ids to text.",
          "requestBody": {"required": true, "content": {"application/json": {"schema": {"type": "object", "required": ["tokens"], "properties": {
            "model": {"type": "string"}, "tokens": {"type": "array", "items": {"type": "integer", "minimum": 0, "maximum": 2147483647}}}}}}},
          "responses": {"200": {"description": "Text.", "content": {"application/json": {"schema": {"type": "object", "properties": {
            "prompt": {"type": "string"}, "content": {"type": "string"}}}}}},
            "400": {"$ref": "#/components/responses/BadRequest"}, "401": {"$ref": "#/components/responses/Unauthorized"},
            "413": {"$ref": "#/components/responses/TooLarge"}, "503": {"$ref": "#/components/responses/Loading"}}}},
        "/health": {"get": {"operationId": "health", "summary": "200 when the model is ready, 503 while it loads or the server drains.", "security": [],
          "responses": {"200": {"description": "Ready.", "content": {"application/json": {"schema": {"type": "object"}}}},
            "503": {"description": "Loading, draining (shutting down) or failed.", "content": {"application/json": {"schema": {"type": "object"}}}}}},
          "head": {"operationId": "healthHead", "summary": "The status of GET /health without a body.", "security": [],
            "responses": {"200": {"description": "Ready."}, "503": {"description": "Loading, draining or failed."}}}},
        "/status": {"get": {"operationId": "status", "summary": "What the server serves and how busy it is (peregrine ps).",
          "responses": {"200": {"description": "Status.", "content": {"application/json": {"schema": {"type": "object", "properties": {
            "status": {"type": "string", "enum": ["loading", "ok", "draining", "error"]}, "model": {"type": "string"},
            "version": {"type": "string"}, "uptime_s": {"type": "integer"}, "max_model_len": {"type": "integer"},
            "requests_running": {"type": "integer"}, "requests_waiting": {"type": "integer"},
            "kv_cache_usage": {"type": "number"}, "kv_cache_type": {"type": "string"},
            "sampling_defaults": {"type": "object"}}}}}},
            "401": {"$ref": "#/components/responses/Unauthorized"}}}},
        "/version": {"get": {"operationId": "version", "summary": "Server version.", "security": [],
          "responses": {"200": {"description": "Version.", "content": {"application/json": {"schema": {"type": "object",
            "properties": {"version": {"type": "string"}, "name": {"type": "string"}}}}}}}}},
        "/metrics": {"get": {"operationId": "metrics", "summary": "Prometheus metrics (vLLM names).", "security": [],
          "responses": {"200": {"description": "Text exposition format.", "content": {"text/plain": {"schema": {"type": "string"}}}}}}},
        "/openapi.json": {"get": {"operationId": "openapi", "summary": "This document.", "security": [],
          "responses": {"200": {"description": "OpenAPI 3.1 document.", "content": {"application/json": {"schema": {"type": "object"}}}}}}}
      }
    }
    """#
}
