import Foundation

/// A `multipart/form-data` body (RFC 7578) as `POST /v1/files` receives it: named fields, some of
/// them files. Parsing never traps: a malformed body is a `nil` with the reason in `error`.
struct MultipartForm: Sendable {
  struct Part: Sendable {
    var name: String
    var filename: String?
    var content: Data
  }

  var parts: [Part]

  func part(named name: String) -> Part? { parts.first { $0.name == name } }
  func text(named name: String) -> String? { part(named: name).map { String(decoding: $0.content, as: UTF8.self) } }

  /// The boundary parameter of a `multipart/form-data` content type.
  static func boundary(contentType: String?) -> String? {
    guard let contentType, contentType.lowercased().hasPrefix("multipart/form-data") else { return nil }
    for parameter in contentType.split(separator: ";").dropFirst() {
      let pair = parameter.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
      if pair.count == 2, pair[0].lowercased() == "boundary" {
        let value = pair[1].trimmingCharacters(in: CharacterSet(charactersIn: "\""))
        return value.isEmpty || value.count > 200 ? nil : value
      }
    }
    return nil
  }

  /// Parses `body`, or says what is wrong with it.
  static func parse(_ body: Data, boundary: String) -> Result<MultipartForm, APIError> {
    let bytes = [UInt8](body)
    let delimiter = Array("--\(boundary)".utf8)
    var parts: [Part] = []
    guard var cursor = find(delimiter, in: bytes, from: 0) else {
      return .failure(.invalidParameter(nil, "The multipart body has no part delimited by its boundary."))
    }
    while true {
      cursor += delimiter.count
      // "--" after a delimiter ends the body.
      if cursor + 1 < bytes.count, bytes[cursor] == 45, bytes[cursor + 1] == 45 { break }
      guard let headerEnd = find(Array("\r\n\r\n".utf8), in: bytes, from: cursor) else {
        return .failure(.invalidParameter(nil, "A multipart part has no end to its headers."))
      }
      let headers = String(decoding: bytes[cursor..<headerEnd], as: UTF8.self)
      let start = headerEnd + 4
      guard let next = find(Array("\r\n--\(boundary)".utf8), in: bytes, from: start) else {
        return .failure(.invalidParameter(nil, "A multipart part is not closed by the boundary."))
      }
      var name: String?
      var filename: String?
      for line in headers.components(separatedBy: "\r\n")
      where line.lowercased().hasPrefix("content-disposition:") {
        name = parameter("name", in: line)
        filename = parameter("filename", in: line)
      }
      guard let name else {
        return .failure(.invalidParameter(nil, "A multipart part has no Content-Disposition name."))
      }
      parts.append(Part(name: name, filename: filename, content: Data(bytes[start..<next])))
      cursor = next + 2
    }
    return .success(MultipartForm(parts: parts))
  }

  /// `name="value"` (or unquoted) inside a Content-Disposition line.
  private static func parameter(_ key: String, in line: String) -> String? {
    for piece in line.split(separator: ";").dropFirst() {
      let pair = piece.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
      if pair.count == 2, pair[0].lowercased() == key {
        var v = pair[1]
        if v.hasPrefix("\""), v.hasSuffix("\""), v.count >= 2 { v = String(v.dropFirst().dropLast()) }
        return v
      }
    }
    return nil
  }

  /// The first index of `needle` in `haystack` at or after `from`.
  private static func find(_ needle: [UInt8], in haystack: [UInt8], from: Int) -> Int? {
    guard !needle.isEmpty, haystack.count >= needle.count, from <= haystack.count - needle.count else { return nil }
    let first = needle[0]
    var i = from
    let last = haystack.count - needle.count
    while i <= last {
      if haystack[i] == first {
        var j = 1
        while j < needle.count && haystack[i + j] == needle[j] { j += 1 }
        if j == needle.count { return i }
      }
      i += 1
    }
    return nil
  }
}
