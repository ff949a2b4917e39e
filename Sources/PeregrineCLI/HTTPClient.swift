import Foundation

#if canImport(Glibc)
  import Glibc
#endif

/// A small blocking HTTP/1.1 client over a POSIX socket, for `bench serve --url` and `ps`: one
/// connection per request, `Content-Length` or chunked bodies, the body handed over as it arrives
/// so server-sent events are timed when they land. Plain `http://` only (servers under test run on
/// loopback or a private network). Call it from a thread of its own: it blocks.
struct HTTPClient: Sendable {
  struct Response: Sendable {
    var status: Int
    var headers: [String: String]
    var body: Data
  }

  let host: String
  let port: Int
  /// Path prefix of the server's routes (from a URL such as http://host:port/prefix), without a trailing slash.
  let basePath: String
  var apiKey: String?
  /// Seconds a read or write may wait before the request fails.
  var timeout: Double = 600

  /// Parses `http://host[:port][/prefix]`.
  init(url: String, apiKey: String? = nil) throws {
    guard let components = URLComponents(string: url), components.scheme == "http", let host = components.host,
      !host.isEmpty
    else {
      throw CLIError("'\(url)' is not an http:// URL (e.g. http://127.0.0.1:8080)")
    }
    self.host = host
    port = components.port ?? 80
    var path = components.path
    while path.hasSuffix("/") { path.removeLast() }
    basePath = path
    self.apiKey = apiKey
  }

  var origin: String { "http://\(host):\(port)" }

  /// Sends a request and returns the whole response.
  func send(_ method: String, _ path: String, json body: Data? = nil) throws -> Response {
    var collected = Data()
    var response = try stream(method, path, json: body) { collected.append(contentsOf: $0) }
    response.body = collected
    return response
  }

  /// Sends a request and calls `onLine` with each line of the body as it arrives (server-sent events).
  func streamLines(_ method: String, _ path: String, json body: Data?, onLine: (Substring) -> Void) throws -> Response {
    var pending = [UInt8]()
    let response = try stream(method, path, json: body) { bytes in
      pending.append(contentsOf: bytes)
      while let newline = pending.firstIndex(of: UInt8(ascii: "\n")) {
        var line = pending[..<newline]
        if line.last == UInt8(ascii: "\r") { line = line.dropLast() }
        onLine(Substring(String(decoding: line, as: UTF8.self)))
        pending.removeSubrange(...newline)
      }
    }
    if !pending.isEmpty { onLine(Substring(String(decoding: pending, as: UTF8.self))) }
    return response
  }

  /// Sends a request; the body arrives through `onBody` (chunk framing removed); the returned
  /// response has an empty body.
  func stream(_ method: String, _ path: String, json body: Data?, onBody: ([UInt8]) -> Void) throws -> Response {
    let connection = try Connection(host: host, port: port, timeout: timeout)
    defer { connection.close() }
    var head = "\(method) \(basePath)\(path) HTTP/1.1\r\nHost: \(host):\(port)\r\nConnection: close\r\n"
    head += "Accept: */*\r\nUser-Agent: peregrine\r\n"
    if let apiKey { head += "Authorization: Bearer \(apiKey)\r\n" }
    if let body { head += "Content-Type: application/json\r\nContent-Length: \(body.count)\r\n" }
    head += "\r\n"
    try connection.write(Array(head.utf8) + (body.map { Array($0) } ?? []))

    let statusLine = try connection.readLine()
    let parts = statusLine.split(separator: " ", maxSplits: 2)
    guard parts.count >= 2, parts[0].hasPrefix("HTTP/1."), let status = Int(parts[1]) else {
      throw CLIError("\(origin) did not answer HTTP (got '\(statusLine.prefix(80))')")
    }
    var headers: [String: String] = [:]
    while true {
      let line = try connection.readLine()
      if line.isEmpty { break }
      guard let colon = line.firstIndex(of: ":") else { continue }
      headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
    }
    if headers["transfer-encoding"]?.lowercased().contains("chunked") == true {
      while true {
        let sizeLine = try connection.readLine()
        guard let size = Int(sizeLine.split(separator: ";")[0].trimmingCharacters(in: .whitespaces), radix: 16), size >= 0
        else { throw CLIError("\(origin) sent a malformed chunk size '\(sizeLine.prefix(20))'") }
        if size == 0 { break }
        try connection.read(exactly: size, into: onBody)
        _ = try connection.readLine()
      }
    } else if let length = headers["content-length"].flatMap({ Int($0) }) {
      try connection.read(exactly: length, into: onBody)
    } else {
      try connection.readToEnd(into: onBody)
    }
    return Response(status: status, headers: headers, body: Data())
  }
}

/// One TCP connection with a read buffer.
private final class Connection {
  private let fd: Int32
  private var buffer = [UInt8]()
  private var start = 0
  private let origin: String

  init(host: String, port: Int, timeout: Double) throws {
    origin = "\(host):\(port)"
    var hints = addrinfo()
    hints.ai_family = AF_UNSPEC
    hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
    var list: UnsafeMutablePointer<addrinfo>?
    let rc = getaddrinfo(host, String(port), &hints, &list)
    guard rc == 0, let first = list else {
      throw CLIError("cannot resolve \(host): \(String(cString: gai_strerror(rc)))")
    }
    defer { freeaddrinfo(list) }
    var lastErrno: Int32 = 0
    var address: UnsafeMutablePointer<addrinfo>? = first
    var connected: Int32 = -1
    while let a = address {
      let s = socket(a.pointee.ai_family, a.pointee.ai_socktype, a.pointee.ai_protocol)
      if s >= 0 {
        if connect(s, a.pointee.ai_addr, a.pointee.ai_addrlen) == 0 {
          connected = s
          break
        }
        lastErrno = errno
        Glibc.close(s)
      }
      address = a.pointee.ai_next
    }
    guard connected >= 0 else {
      throw CLIError("cannot connect to \(origin): \(String(cString: strerror(lastErrno))) (is the server running?)")
    }
    fd = connected
    var tv = timeval(tv_sec: Int(timeout), tv_usec: Int((timeout - timeout.rounded(.down)) * 1e6))
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
    var one: Int32 = 1
    setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
  }

  func close() { Glibc.close(fd) }

  func write(_ bytes: [UInt8]) throws {
    var sent = 0
    while sent < bytes.count {
      let n = bytes[sent...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
      guard n > 0 else { throw CLIError("writing to \(origin) failed: \(String(cString: strerror(errno)))") }
      sent += n
    }
  }

  /// Reads more into the buffer; false at end of stream.
  private func fill() throws -> Bool {
    if start > 0 && start == buffer.count {
      buffer.removeAll(keepingCapacity: true)
      start = 0
    }
    var chunk = [UInt8](repeating: 0, count: 64 << 10)
    let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
    if n < 0 {
      let code = errno
      throw CLIError(
        code == EAGAIN || code == EWOULDBLOCK
          ? "\(origin) did not answer in time" : "reading from \(origin) failed: \(String(cString: strerror(code)))")
    }
    if n == 0 { return false }
    buffer.append(contentsOf: chunk[..<n])
    return true
  }

  /// A line without its CRLF.
  func readLine() throws -> String {
    while true {
      if let newline = buffer[start...].firstIndex(of: UInt8(ascii: "\n")) {
        var end = newline
        if end > start && buffer[end - 1] == UInt8(ascii: "\r") { end -= 1 }
        let line = String(decoding: buffer[start..<end], as: UTF8.self)
        start = newline + 1
        return line
      }
      guard try fill() else { throw CLIError("\(origin) closed the connection mid-response") }
    }
  }

  func read(exactly count: Int, into sink: ([UInt8]) -> Void) throws {
    var remaining = count
    while remaining > 0 {
      if start == buffer.count {
        guard try fill() else { throw CLIError("\(origin) closed the connection mid-response") }
      }
      let take = min(remaining, buffer.count - start)
      sink(Array(buffer[start..<start + take]))
      start += take
      remaining -= take
    }
  }

  func readToEnd(into sink: ([UInt8]) -> Void) throws {
    while true {
      if start < buffer.count {
        sink(Array(buffer[start...]))
        start = buffer.count
      }
      guard try fill() else { return }
    }
  }
}
