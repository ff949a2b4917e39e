/// A bounds-checked little-endian cursor over the bytes of a GGUF header. Every read either
/// returns a value or throws `truncated` naming what was being read.
struct GGUFByteReader {
  let bytes: UnsafeRawBufferPointer
  private(set) var offset = 0

  init(_ bytes: UnsafeRawBufferPointer) { self.bytes = bytes }

  var remaining: Int { bytes.count - offset }

  mutating func read<T: FixedWidthInteger>(_: T.Type, _ what: @autoclosure () -> String) throws(GGUFError) -> T {
    let size = MemoryLayout<T>.size
    guard remaining >= size else { throw .truncated(what: what(), offset: offset) }
    let value = bytes.loadUnaligned(fromByteOffset: offset, as: T.self)
    offset += size
    return T(littleEndian: value)
  }

  mutating func readString(_ what: @autoclosure () -> String, limits: GGUFLimits) throws(GGUFError) -> String {
    let start = offset
    let length = try read(UInt64.self, what())
    guard length <= UInt64(limits.maxStringLength) else {
      throw .limitExceeded(what: "length of \(what())", value: length, limit: UInt64(limits.maxStringLength))
    }
    guard UInt64(remaining) >= length else { throw .truncated(what: what(), offset: start) }
    let slice = UnsafeRawBufferPointer(rebasing: bytes[offset..<(offset + Int(length))])
    offset += Int(length)
    guard let s = String(validating: slice, as: UTF8.self) else { throw .invalidString(offset: start) }
    return s
  }

  mutating func align(to alignment: Int) {
    let r = offset % alignment
    if r != 0 { offset += alignment - r }
  }
}
