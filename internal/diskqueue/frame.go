package diskqueue

import (
	"encoding/binary"
	"hash/crc32"
)

// A record on disk: one magic byte, the payload length (uint32, little
// endian), the CRC-32C of those five bytes and the payload (uint32), then
// the payload. The magic byte lets a reader find the next record after a
// corrupt one; the CRC covering the length means a torn or flipped length
// is caught before it is trusted.

const (
	magic     = 0xD7
	headerLen = 9
	// MaxRecord is the largest payload the queue takes.
	MaxRecord = 64 << 20
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// appendFrame appends the framed payload to dst.
func appendFrame(dst, payload []byte) []byte {
	var h [headerLen]byte
	h[0] = magic
	binary.LittleEndian.PutUint32(h[1:5], uint32(len(payload)))
	c := crc32.Update(0, castagnoli, h[:5])
	c = crc32.Update(c, castagnoli, payload)
	binary.LittleEndian.PutUint32(h[5:9], c)
	dst = append(dst, h[:]...)
	return append(dst, payload...)
}

// frameLen is the size on disk of a payload of n bytes.
func frameLen(n int) int64 { return int64(headerLen + n) }

// parseFrame reads the record at the start of b. It returns the payload
// and the record's length; n == 0 means b holds no complete valid record
// there: need > 0 says how many bytes a record that may be valid needs
// (more data may complete it), need == 0 that the bytes are not a record.
func parseFrame(b []byte) (payload []byte, n int, need int) {
	if len(b) < headerLen {
		if len(b) > 0 && b[0] != magic {
			return nil, 0, 0
		}
		return nil, 0, headerLen
	}
	if b[0] != magic {
		return nil, 0, 0
	}
	l := binary.LittleEndian.Uint32(b[1:5])
	if l == 0 || l > MaxRecord {
		return nil, 0, 0
	}
	total := headerLen + int(l)
	if len(b) < total {
		// Check the length before trusting it: the CRC covers the
		// whole record, so only the magic and bound vouch for it here.
		return nil, 0, total
	}
	c := crc32.Update(0, castagnoli, b[:5])
	c = crc32.Update(c, castagnoli, b[headerLen:total])
	if c != binary.LittleEndian.Uint32(b[5:9]) {
		return nil, 0, 0
	}
	return b[headerLen:total], total, 0
}
