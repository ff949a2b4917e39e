#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// The process's limit on open files, which caps open connections: every connection is a
/// descriptor, and an `accept` that finds none left fails (NIO then pauses accepting for a
/// second). Servers raise the soft limit to the hard one at start, as Go and nginx do.
enum FileDescriptorLimit {
  /// Raises the soft limit to the hard limit (at most 1,048,576) and returns the soft limit now in force.
  @discardableResult
  static func raise() -> Int {
    var limit = rlimit()
    #if canImport(Glibc)
      let resource = __rlimit_resource_t(RLIMIT_NOFILE.rawValue)
    #else
      let resource = RLIMIT_NOFILE
    #endif
    guard getrlimit(resource, &limit) == 0 else { return 1024 }
    let wanted = min(limit.rlim_max, 1 << 20)
    if limit.rlim_cur < wanted {
      var raised = limit
      raised.rlim_cur = wanted
      if setrlimit(resource, &raised) == 0 { limit = raised }
    }
    return Int(clamping: limit.rlim_cur)
  }

  /// Descriptors kept free of connections: the listener, the usage database, the model file,
  /// logs, /proc reads for metrics, and refusing one more client with a 503.
  static let reserve = 64
}
