package sqlite

import (
	"bytes"
	"testing"
)

// FuzzChunkEntries: packed entries read back as written, and any bytes
// (a damaged file) give an error, never a panic or an entry past the end.
func FuzzChunkEntries(f *testing.F) {
	f.Add([]byte{0, 1}, "AB12CDE", int64(0), int64(1_800_000_000_000), []byte("x"), byte(flagExpires|flagCovert))
	f.Add([]byte{0x0f, 0x09, 0xff}, "", int64(-1), int64(0), []byte{}, byte(0))
	f.Fuzz(func(t *testing.T, junk []byte, vrm string, expires, added int64, detail []byte, flags byte) {
		_ = eachEntry(junk, func(slot int, e *chunkEntry) error {
			if slot >= chunkEntries || len(e.vrm) > len(junk) || len(e.detail) > len(junk) {
				t.Fatalf("slot %d, vrm %d bytes, detail %d bytes from %d bytes", slot, len(e.vrm), len(e.detail), len(junk))
			}
			return nil
		})
		var b []byte
		for range 3 {
			b = appendEntry(b, flags, 5, vrm, expires, added, detail)
		}
		n := 0
		err := eachEntry(b, func(slot int, e *chunkEntry) error {
			n++
			if string(e.vrm) != vrm || e.added != added || !bytes.Equal(e.detail, detail) || e.flags != flags ||
				e.priority != 5 || (flags&flagExpires != 0 && e.expires != expires) || entrySize(e)*3 != len(b) {
				t.Fatalf("entry %d read back as %+v", slot, e)
			}
			return nil
		})
		if err != nil || n != 3 {
			t.Fatalf("%d entries, %v", n, err)
		}
	})
}
