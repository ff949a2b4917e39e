import Engine
import Templates
import Foundation
import TestSupport
import Testing
import Tokenizers

@Suite struct JinjaTemplateTests {
  func messages(_ json: String) throws -> [JSONValue] {
    guard case .array(let items) = try JSONValue(parsing: json) else { throw JinjaError.runtime("not a list") }
    return items
  }

  func render(_ source: String, _ context: [String: JSONValue] = [:]) throws -> String {
    try JinjaTemplate(source: source).render(context)
  }

  @Test func wellKnownTemplatesMatchPythonJinja() throws {
    for (source, conversation, addGenerationPrompt, tools, expected) in ChatTemplateFixtures.cases {
      let name = source.prefix(60)
      let t = try JinjaChatTemplate(source: source, bosToken: "<s>", eosToken: "</s>")
      var toolList: [JSONValue]?
      if let tools { toolList = try messages(tools) }
      let out = try t.render(
        messages: try messages(conversation), addGenerationPrompt: addGenerationPrompt, tools: toolList)
      #expect(out == expected, "\(name)")
    }
  }

  @Test func extraVariablesReachTheTemplate() throws {
    let t = try JinjaChatTemplate(source: ChatTemplateFixtures.reasoning)
    let out = try t.render(
      messages: try messages(ChatTemplateFixtures.thinking), addGenerationPrompt: true, tools: nil,
      variables: ["enable_thinking": .bool(false), "messages": .array([])])
    #expect(out == ChatTemplateFixtures.reasoningWithoutThinking)
    #expect(try render("{{ '<a href=\"x\">&' | e }}") == "&lt;a href=&#34;x&#34;&gt;&amp;")
  }

  @Test func smolLM2sOwnTemplateMatchesTheHandWrittenRenderer() throws {
    let metadata = try TestModels.file("smollm2-135m").metadata
    let source = try #require(metadata["tokenizer.chat_template"]?.string)
    let vocabulary = try smolLM2Vocabulary()
    let template = ChatTemplate(source: source, vocabulary: vocabulary)
    guard case .jinja = template else {
      Issue.record("SmolLM2's template should be interpreted, got \(template)")
      return
    }
    let handWritten = ChatTemplate.handWritten(source: source)
    #expect(handWritten == .chatML(defaultSystem: "You are a helpful AI assistant named SmolLM, trained by Hugging Face"))
    let conversations: [[ChatMessage]] = [
      [ChatMessage(role: "user", content: "Hi")],
      [
        ChatMessage(role: "system", content: "Be brief."), ChatMessage(role: "user", content: "Hi"),
        ChatMessage(role: "assistant", content: "Hello."), ChatMessage(role: "user", content: " Bye\n"),
      ],
      [ChatMessage(role: "user", content: "{{ not a tag }} {% neither %}")],
    ]
    for c in conversations {
      for addGenerationPrompt in [true, false] {
        #expect(
          try template.render(c, addGenerationPrompt: addGenerationPrompt)
            == (try handWritten.render(c, addGenerationPrompt: addGenerationPrompt)))
      }
    }
    // Content parts reach a string-only template joined into one string.
    let parts = try messages(#"[{"role":"user","content":[{"type":"text","text":"a"},{"type":"text","text":"b"}]}]"#)
    #expect(try template.render(messages: parts).contains("<|im_start|>user\na\nb<|im_end|>"))
  }

  /// The Gemma GGUF ships without `tokenizer.chat_template`; Gemma 3's published template is
  /// embedded instead and must agree with the hand-written renderer the model falls back to.
  @Test func contentPartsReachStringOnlyTemplatesAsStrings() throws {
    let parts = try messages(#"[{"role":"user","content":[{"type":"text","text":"a"},{"type":"text","text":"b"}]}]"#)
    // Mentions `is string`, but only for tools: the first render fails, the retry joins the parts.
    let t = try JinjaChatTemplate(
      source: "{% for m in messages %}{{ m.role + ': ' + m.content }}{% endfor %}{% if tools is string %}{% endif %}"
        + "{% for m in messages %}{% if m.content is string %}{% endif %}{% endfor %}")
    #expect(t.acceptsContentParts)
    #expect(try t.render(messages: parts, addGenerationPrompt: false, tools: nil) == "user: a\nb")
    let images = try messages(#"[{"role":"user","content":[{"type":"image_url","image_url":{"url":"x"}}]}]"#)
    #expect(throws: JinjaError.self) { try t.render(messages: images, addGenerationPrompt: false, tools: nil) }
  }

  @Test func gemma3TemplateMatchesTheHandWrittenRenderer() throws {
    let jinja = ChatTemplate(source: ChatTemplateFixtures.gemma3)
    guard case .jinja = jinja else {
      Issue.record("Gemma 3's template should be interpreted")
      return
    }
    #expect(ChatTemplate.handWritten(source: ChatTemplateFixtures.gemma3) == .gemma)
    let c = [
      ChatMessage(role: "system", content: "S"), ChatMessage(role: "user", content: "Hi"),
      ChatMessage(role: "assistant", content: "Hello"), ChatMessage(role: "user", content: "Bye"),
    ]
    #expect(try jinja.render(c) == (try ChatTemplate.gemma.render(c)))
    #expect(try jinja.render(Array(c.dropFirst()), addGenerationPrompt: false) == (try ChatTemplate.gemma.render(Array(c.dropFirst()), addGenerationPrompt: false)))
  }

  @Test func raiseExceptionIsATypedError() throws {
    let mistral = try JinjaChatTemplate(source: ChatTemplateFixtures.mistral)
    #expect(throws: JinjaError.raised("Conversation roles must alternate user/assistant/user/assistant/...")) {
      try mistral.render(messages: try messages(ChatTemplateFixtures.conversation), addGenerationPrompt: true, tools: nil)
    }
    #expect(throws: JinjaError.raised("Only user and assistant roles are supported!")) {
      try mistral.render(
        messages: try messages(#"[{"role":"user","content":"a"},{"role":"tool","content":"b"}]"#), addGenerationPrompt: true,
        tools: nil)
    }
    let gemma = ChatTemplate(source: ChatTemplateFixtures.gemma3)
    #expect(throws: JinjaError.raised("Conversation roles must alternate user/assistant/user/assistant/...")) {
      try gemma.render([ChatMessage(role: "user", content: "a"), ChatMessage(role: "user", content: "b")])
    }
  }

  @Test func whitespaceControl() throws {
    #expect(try render("a  {%- if true -%}  b  {%- endif -%}  c") == "abc")
    // trim_blocks drops the newline after a block tag; lstrip_blocks the indentation before it.
    #expect(try render("x\n  {% if true %}\n  y\n  {% endif %}\nz") == "x\n  y\nz")
    #expect(try render("{{ 1 }}\n{{ 2 }}") == "1\n2")
    #expect(try render("a {# c #}\nb") == "a b")
    #expect(try render("  {%+ if true %}x{% endif +%}\ny") == "  x\ny")
    #expect(try render("{% raw %}{{ x }}{% endraw %}") == "{{ x }}")
  }

  @Test func expressionsFollowPythonAndJinja() throws {
    #expect(try render("{{ 'a' ~ 1 ~ 2.5 ~ none ~ true }}") == "a12.5NoneTrue")
    #expect(try render("{{ [1, 'x', none, [true]] }} {{ {'k': 'v'} }}") == "[1, 'x', None, [True]] {'k': 'v'}")
    #expect(try render("{{ 'hello'[1:3] }}{{ [1,2,3][-1] }}{{ 'abc'[::-1] }}") == "el3cba")
    #expect(try render("{{ 'x' if false }}|{{ 1 if 0 else 2 }}|{{ not 1 == 2 }}") == "|2|True")
    #expect(try render("{{ x.y.z }}{{ x['y'] }}{{ x | length }}") == "0")
    #expect(try render("{{ a.strip('-') }} {{ a.split('-') }}", ["a": .string("-q-r-")]) == "q-r ['', 'q', 'r', '']")
    #expect(try render("{{ t | tojson(indent=2) }}", ["t": try JSONValue(parsing: #"{"a":[1,{"b":null}]}"#)])
      == "{\n  \"a\": [\n    1,\n    {\n      \"b\": null\n    }\n  ]\n}")
    #expect(try render("{{ 'é\n' | tojson }}") == "\"é\\n\"")
    #expect(try render("{% set x %}in{{ 1 }}{% endset %}{{ x }}{% filter upper %}up{% endfilter %}") == "in1UP")
    #expect(try render("{% for a, b in [[1, 2], [3, 4]] %}{{ a + b }}{% else %}none{% endfor %}{% for x in [] %}{% else %}empty{% endfor %}") == "37empty")
    #expect(try render("{% set x = 1 %}{% for i in [1] %}{% set x = 2 %}{% endfor %}{{ x }}") == "1")
    #expect(try render("{{ strftime_now('%Y') | length }}") == "4")
    // A namespace holding itself prints without recursing forever.
    #expect(try render("{% set ns = namespace(a=1) %}{% set ns.b = ns %}{{ ns }}").hasPrefix("<Namespace a=1, b=<Namespace"))
  }

  @Test func malformedTemplatesAreSyntaxErrors() {
    let bad = [
      "{{", "{{ }}", "{% for %}", "{% endfor %}", "{% if x %}", "{{ a[ }}", "{{ 'abc }}", "{% set %}", "{# open",
      "{{ (1 }}", "{{ 1 + }}", "{% unknown %}", "{% for x in y recursive %}{% endfor %}", "{{ a | }}", "{{ @ }}",
      "{{ " + String(repeating: "(", count: 5000) + "1" + String(repeating: ")", count: 5000) + " }}",
      "{{ " + String(repeating: "[", count: 5000) + " }}", "{{ " + String(repeating: "-", count: 5000) + "1 }}",
      String(repeating: "{% if x %}", count: 2000) + String(repeating: "{% endif %}", count: 2000),
      "{{ " + String(repeating: "not ", count: 5000) + "x }}",
    ]
    for source in bad {
      #expect(throws: JinjaError.self, "\(source.prefix(40))") { try JinjaTemplate(source: source) }
    }
  }

  @Test func hostileTemplatesHitTheLimits() throws {
    var small = JinjaLimits()
    small.maxSteps = 200_000
    small.maxOutputBytes = 1 << 20
    let hostile = [
      "{% for i in range(100000000) %}x{% endfor %}",
      "{% for a in range(1000) %}{% for b in range(1000) %}{% endfor %}{% endfor %}",
      "{% for a in range(5000) %}{{ 'x' * 1000 }}{% endfor %}",
      "{% macro f(n) %}{{ f(n) }}{% endmacro %}{{ f(1) }}",
      "{% macro f(n) %}{{ f(n) }}{{ f(n) }}{% endmacro %}{{ f(1) }}",
      "{% set ns = namespace(s='ab') %}{% for i in range(64) %}{% set ns.s = ns.s + ns.s %}{% endfor %}",
      "{% set ns = namespace(s=[1]) %}{% for i in range(64) %}{% set ns.s = ns.s + ns.s %}{% endfor %}",
      "{{ 'x' * 100000000000 }}", "{{ [1] * 100000000000 }}",
      "{% set ns = namespace(x=[]) %}{% for i in range(100000) %}{% set ns.x = [ns.x] %}{% endfor %}",
      "{% set ns = namespace(x={}) %}{% for i in range(100000) %}{% set ns.x = {'a': ns.x} %}{% endfor %}",
      "{% set ns = namespace(x=none) %}{% for i in range(100000) %}{% set ns.x = namespace(n=ns.x) %}{% endfor %}",
      "{% set ns = namespace(x=none) %}{% for i in range(100000) %}{% set ns.x = dict(n=ns.x) %}{% endfor %}",
    ]
    for source in hostile {
      #expect(throws: JinjaError.self, "\(source)") { try JinjaTemplate(source: source).render([:], limits: small) }
    }
    let runtime = ["{{ 2 ** 100 }}", "{{ 1 // 0 }}", "{{ 1 % 0 }}", "{{ 1 / 0 }}", "{{ x | nofilter }}", "{{ 1 is nosuchtest }}",
      "{{ undefined_fn() }}", "{{ 1 < 'a' }}", "{{ {} + 1 }}", "{% for x in 3 %}{% endfor %}", "{% set ns.a = 1 %}",
      "{{ 9223372036854775807 + 1 }}", "{{ range(-9223372036854775807, 9223372036854775807) }}",
      "{{ (-9223372036854775807 - 1) ** 65 }}", "{{ 'a,b'.split(',', 9223372036854775807) | nofilter }}", "{{ -(-9223372036854775807 - 1) }}", "{{ range(1, 2, 0) }}"]
    for source in runtime {
      #expect(throws: JinjaError.self, "\(source)") { try JinjaTemplate(source: source).render([:]) }
    }
  }

  /// Work the step count undercharges (a search or sort of a long list is one step) is cut off by
  /// the wall clock, and such searches and sorts are charged by their size.
  @Test func slowTemplatesHitTheTimeLimit() throws {
    var limits = JinjaLimits()
    limits.maxSteps = .max
    limits.maxDuration = .milliseconds(300)
    let slow = [
      "{% for a in range(100000) %}{% for b in range(100000) %}{% endfor %}{% endfor %}",
      "{% set big = range(4000000) %}{% for i in range(100000) %}{% if -1 in big %}{% endif %}{% endfor %}",
      "{% set big = range(1000000)|list %}{% for i in range(1000) %}{{ (big|sort)|length }}{% endfor %}",
      "{{ range(4000000)|unique|length }}",
    ]
    for source in slow {
      let start = ContinuousClock.now
      #expect(throws: JinjaError.self, "\(source)") { try JinjaTemplate(source: source).render([:], limits: limits) }
      #expect(ContinuousClock.now - start < .seconds(5), "\(source)")
    }
    // Under the default step budget the same searches stop on steps, long before they finish.
    #expect(throws: JinjaError.self) {
      try JinjaTemplate(source: slow[1]).render([:], limits: JinjaLimits())
    }
  }

  /// Random mutations of real templates must parse-and-render or fail with a typed error, quickly.
  @Test func mutatedTemplatesNeverCrash() throws {
    var rng = SplitMix64(seed: 6)
    let alphabet = Array("{}%#-+()[]'\".|~=!<>: \nabforinsetendifloop0123456789".unicodeScalars)
    let sources = [ChatTemplateFixtures.qwen25, ChatTemplateFixtures.gemma3, ChatTemplateFixtures.kitchen]
    let context: [String: JSONValue] = [
      "messages": try JSONValue(parsing: ChatTemplateFixtures.toolConversation),
      "tools": try JSONValue(parsing: ChatTemplateFixtures.tools), "add_generation_prompt": .bool(true),
    ]
    var limits = JinjaLimits()
    limits.maxSteps = 100_000
    var rendered = 0
    for round in 0..<600 {
      var u = Array(sources[round % sources.count].unicodeScalars)
      for _ in 0..<(1 + Int(rng.next() % 4)) {
        let at = Int(rng.next() % UInt64(u.count))
        switch rng.next() % 3 {
        case 0: u[at] = alphabet[Int(rng.next() % UInt64(alphabet.count))]
        case 1: u.remove(at: at)
        default: u.insert(alphabet[Int(rng.next() % UInt64(alphabet.count))], at: at)
        }
      }
      var s = String.UnicodeScalarView()
      s.append(contentsOf: u)
      do {
        _ = try JinjaTemplate(source: String(s)).render(context, limits: limits)
        rendered += 1
      } catch {
        // Any typed error is fine; a crash or hang is not.
      }
    }
    #expect(rendered > 0)
  }

  @Test func gemmaGGUFWithoutATemplateGetsTheGemmaRenderer() throws {
    let metadata = try TestModels.file("gemma3-270m").metadata
    #expect(metadata["tokenizer.chat_template"] == nil)
    let vocabulary = try TokenizerVocabulary(metadata: metadata)
    #expect(ChatTemplate(source: nil, vocabulary: vocabulary) == .gemma)
  }

  @Test func unsupportedTemplatesFallBackToTheHandWrittenFamily() {
    let source = "{% for m in messages recursive %}<|im_start|>{{ m.role }}{% endfor %}"
    #expect(ChatTemplate(source: source) == .chatML(defaultSystem: nil))
    #expect(ChatTemplate(source: nil) == .chatML(defaultSystem: nil))
    // A template that rejects a plain one-message conversation is not used either.
    #expect(ChatTemplate(source: "{{ raise_exception('no') }}<start_of_turn>") == .gemma)
  }

  @Test func jsonValueDecodesWithCodable() throws {
    let data = Data(#"{"b": [1, 2.5, "x", null, true, {"c": false}], "a": {}}"#.utf8)
    let v = try JSONDecoder().decode(JSONValue.self, from: data)
    #expect(v == .object([("a", .object([])), ("b", .array([.number(1), .number(2.5), .string("x"), .null, .bool(true), .object([("c", .bool(false))])]))]))
    let back = try JSONDecoder().decode(JSONValue.self, from: try JSONEncoder().encode(v))
    #expect(back == v)
  }

  @Test func jsonValueParsesAndKeepsOrder() throws {
    let v = try JSONValue(parsing: #" {"z": 1, "a": [true, null, -2.5e1, "\u00e9\ud83d\ude00\n"], "m": {}} "#)
    #expect(v.compactText == #"{"z":1,"a":[true,null,-25,"é😀\n"],"m":{}}"#)
    for bad in ["", "{", "[1,]", "{\"a\" 1}", "01", "1.", "\"\\x\"", "tru", "[1] 2", String(repeating: "[", count: 500)] {
      #expect(throws: JSONParseError.self, "\(bad.prefix(10))") { try JSONValue(parsing: bad) }
    }
  }
}
