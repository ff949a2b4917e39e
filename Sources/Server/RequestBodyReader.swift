import Foundation
import Hummingbird
import NIOCore
import Templates

/// Reads and decodes JSON request bodies under the size limit.
enum RequestBodyReader {
  /// Refuses from the Content-Length header when it is over `limit`, and otherwise stops reading as
  /// soon as the limit is crossed, so an oversized body is never held whole.
  static func decode<T: Decodable>(
    _ type: T.Type, from request: Request, limit: Int, timeoutSeconds: Int = 30
  ) async throws -> T {
    try await decodeKeepingBody(type, from: request, limit: limit, timeoutSeconds: timeoutSeconds).value
  }

  /// The decoded value, the body it came from (kept for stored completions) and that body parsed in
  /// document order (`JSONValue.decodeKeepingDocument`; nil when it does not parse).
  static func decodeKeepingBody<T: Decodable>(
    _ type: T.Type, from request: Request, limit: Int, timeoutSeconds: Int = 30
  ) async throws -> (value: T, body: Data, document: Templates.JSONValue?) {
    let data = try await collect(from: request, limit: limit, timeoutSeconds: timeoutSeconds)
    let (value, document) = try decodeWithDocument(type, from: data)
    return (value, data, document)
  }

  /// The whole body, or 413 past `limit` bytes (file uploads have their own, larger limit).
  static func collect(from request: Request, limit: Int, timeoutSeconds: Int = 30) async throws -> Data {
    if let length = request.headers[.contentLength].flatMap(Int.init), length > limit {
      throw APIError.tooLarge(limit: limit)
    }
    let buffer: ByteBuffer
    do {
      buffer = try await request.body.collect(upTo: limit)
    } catch is RequestBodyTimeout {
      // The connection guard gave up on a body shorter than its Content-Length.
      throw APIError.bodyTimeout(seconds: timeoutSeconds)
    } catch let error as HTTPError where error.status == .contentTooLarge {
      throw APIError.tooLarge(limit: limit)
    } catch is NIOTooManyBytesError {
      // A body without Content-Length (chunked) crossed the limit while being read.
      throw APIError.tooLarge(limit: limit)
    }
    return Data(buffer.readableBytesView)
  }

  static func decode<T: Decodable>(_ type: T.Type, from data: Data) throws(APIError) -> T {
    try decodeWithDocument(type, from: data).value
  }

  /// The value with every `JSONValue` in it in document order, and the document itself.
  static func decodeWithDocument<T: Decodable>(_ type: T.Type, from data: Data) throws(APIError) -> (
    value: T, document: Templates.JSONValue?
  ) {
    if data.isEmpty { throw .invalidParameter(nil, "The request needs a JSON body.") }
    do {
      return try Templates.JSONValue.decodeKeepingDocument(type, from: data)
    } catch let error as DecodingError {
      throw .decoding(error)
    } catch {
      throw .invalidParameter(nil, "The body is not valid JSON.")
    }
  }
}
