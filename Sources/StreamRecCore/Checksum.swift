import CZlib

/// CRC-32 (zlib's, the gzip/PNG polynomial) over a byte range.
///
/// zlib's implementation is table-driven and already linked for gzip input;
/// CRC-32C would need hardware paths we would write ourselves for little gain
/// at snapshot sizes.
public func crc32(_ bytes: UnsafeRawBufferPointer, continuing crc: UInt32 = 0) -> UInt32 {
    var crc = UInt(crc)
    var offset = 0
    // zlib takes a UInt32 length; feed it in chunks so multi-GiB buffers work.
    while offset < bytes.count {
        let chunk = min(bytes.count - offset, 1 << 30)
        crc = CZlib.crc32(crc, bytes.baseAddress!.advanced(by: offset).assumingMemoryBound(to: UInt8.self), UInt32(chunk))
        offset += chunk
    }
    return UInt32(crc)
}
