#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// A parsed GGUF file whose tensor data stays in place: memory-mapped from disk (or held in an owned
/// buffer for files built in memory), so tensor views are zero-copy.
///
/// The header is treated as untrusted: every length, count, shape and offset is checked against
/// `GGUFLimits` and against the file's size before anything is allocated.
public final class GGUFFile: @unchecked Sendable {
  public let version: UInt32
  public let metadata: GGUFMetadata
  /// Tensors in file order.
  public let tensors: [GGUFTensorInfo]
  public let alignment: Int
  /// File offset of the tensor data section.
  public let dataOffset: Int
  /// All bytes of the file. Immutable for the file's lifetime.
  public let bytes: UnsafeRawBufferPointer
  /// True when `bytes` is a read-only private mapping of the file: its pages can be dropped from
  /// this process (madvise DONTNEED) and are re-read from the page cache on the next access.
  public let isFileMapping: Bool
  private let index: [String: Int]
  private let release: @Sendable () -> Void

  public static let magic: UInt32 = 0x4655_4747  // "GGUF" read little-endian

  /// Memory-maps and parses the file at `path`.
  public convenience init(path: String, limits: GGUFLimits = .default) throws(GGUFError) {
    let fd = open(path, O_RDONLY)
    guard fd >= 0 else { throw .cannotOpen(path: path, reason: String(cString: strerror(errno))) }
    defer { close(fd) }
    var info = stat()
    guard fstat(fd, &info) == 0 else { throw .cannotOpen(path: path, reason: String(cString: strerror(errno))) }
    guard (info.st_mode & S_IFMT) == S_IFREG else { throw .cannotOpen(path: path, reason: "not a regular file") }
    let size = Int(info.st_size)
    guard size > 0 else { throw .truncated(what: "magic", offset: 0) }
    guard let mapped = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0), mapped != MAP_FAILED else {
      throw .cannotOpen(path: path, reason: "mmap failed: \(String(cString: strerror(errno)))")
    }
    let address = UInt(bitPattern: mapped)
    try self.init(
      bytes: UnsafeRawBufferPointer(start: mapped, count: size), limits: limits, isFileMapping: true,
      release: { _ = munmap(UnsafeMutableRawPointer(bitPattern: address), size) })
  }

  /// Parses a file held in memory (used by tests and by tools that build files).
  public convenience init(bytes source: [UInt8], limits: GGUFLimits = .default) throws(GGUFError) {
    let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: max(source.count, 1), alignment: 64)
    source.withUnsafeBytes { buffer.copyMemory(from: $0) }
    let address = UInt(bitPattern: buffer.baseAddress)
    try self.init(
      bytes: UnsafeRawBufferPointer(start: buffer.baseAddress, count: source.count), limits: limits,
      isFileMapping: false, release: { UnsafeMutableRawPointer(bitPattern: address)?.deallocate() })
  }

  private init(
    bytes: UnsafeRawBufferPointer, limits: GGUFLimits, isFileMapping: Bool, release: @escaping @Sendable () -> Void
  ) throws(GGUFError) {
    do {
      let header = try GGUFHeaderParser.parse(bytes, limits: limits)
      self.version = header.version
      self.metadata = header.metadata
      self.tensors = header.tensors
      self.alignment = header.alignment
      self.dataOffset = header.dataOffset
    } catch {
      release()
      throw error
    }
    self.bytes = bytes
    self.isFileMapping = isFileMapping
    self.release = release
    var index: [String: Int] = [:]
    for (i, t) in tensors.enumerated() { index[t.name] = i }
    self.index = index
    // The header and metadata are parsed into values now; their pages (megabytes for a 262k-token
    // vocabulary) need not stay resident. Whole pages before the tensor data only.
    if isFileMapping, let base = bytes.baseAddress {
      let page = Int(sysconf(Int32(_SC_PAGESIZE)))
      let end = dataOffset / page * page
      if end > 0 { _ = madvise(UnsafeMutableRawPointer(mutating: base), end, MADV_DONTNEED) }
    }
  }

  deinit { release() }

  public func tensor(named name: String) -> GGUFTensorInfo? {
    index[name].map { tensors[$0] }
  }

  /// The bytes of one tensor, in place.
  public func data(of tensor: GGUFTensorInfo) -> UnsafeRawBufferPointer {
    UnsafeRawBufferPointer(rebasing: bytes[(dataOffset + tensor.offset)..<(dataOffset + tensor.offset + tensor.byteCount)])
  }

  /// Size of the tensor data section in bytes.
  public var dataSize: Int { bytes.count - dataOffset }
}
