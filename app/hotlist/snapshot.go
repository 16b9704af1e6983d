package hotlist

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"math"
	"os"
	"path/filepath"
	"unsafe"

	"github.com/ukanpr/anpr/app/vrm"
)

// Snapshot file layout, all integers little-endian:
//
//	header (64 bytes)
//	  0  magic "ANPRHLIX"
//	  8  uint32 version (1)
//	 12  uint32 id width: 4 or 8 bytes
//	 16  int64  source generation
//	 24  uint64 number of keys
//	 32  uint32 number of patterns
//	 36  uint32 number of long marks
//	 40  uint64 body length in bytes
//	 48  uint32 CRC-32C of the body
//	 52  uint32 CRC-32C of header bytes 0…51
//	 56  8 bytes zero
//	body
//	  bucket table: (numBuckets+1) × uint32
//	  keys:         n × uint64
//	  ids:          n × id width
//	  patterns, then long marks: each int64 id, uint16 length, bytes
//
// The arrays are read straight into the index's slices, so loading ten
// million marks is one pass over about 120 MB at disk speed plus a CRC.
const (
	snapMagic   = "ANPRHLIX"
	snapVersion = 1
	headerLen   = 64
	maxStrLen   = maxMarkLen
)

// ErrCorruptSnapshot says a snapshot file is truncated, damaged or of
// another version; the caller rebuilds the index from the source.
var ErrCorruptSnapshot = errors.New("hot-list snapshot is corrupt")

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

var littleEndian = binary.NativeEndian.Uint16([]byte{1, 0}) == 1

// WriteSnapshot writes the index to path, tagged with the source generation
// it was built from. It writes a temporary file in the same directory,
// fsyncs it and renames it over path, so a crash leaves the old snapshot or
// the new one, never a half-written file.
func (x *Index) WriteSnapshot(path string, generation int64) (err error) {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, filepath.Base(path)+".tmp*")
	if err != nil {
		return fmt.Errorf("write hot-list snapshot: %w", err)
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
			err = fmt.Errorf("write hot-list snapshot %s: %w", path, err)
		}
	}()
	if _, err := f.Write(make([]byte, headerLen)); err != nil {
		return err
	}
	crc := crc32.New(castagnoli)
	w := bufio.NewWriterSize(io.MultiWriter(f, crc), 1<<20)
	var n int64
	write := func(b []byte) {
		if err == nil {
			var k int
			k, err = w.Write(b)
			n += int64(k)
		}
	}
	writeU32s := func(s []uint32) {
		if littleEndian {
			write(u32Bytes(s))
			return
		}
		for _, v := range s {
			write(binary.LittleEndian.AppendUint32(nil, v))
		}
	}
	writeU64s := func(s []uint64) {
		if littleEndian {
			write(u64Bytes(s))
			return
		}
		for _, v := range s {
			write(binary.LittleEndian.AppendUint64(nil, v))
		}
	}
	writeU32s(x.bucket)
	writeU64s(x.keys)
	idWidth := uint32(4)
	if x.ids64 != nil {
		idWidth = 8
		writeU64s(unsafe.Slice((*uint64)(unsafe.Pointer(unsafe.SliceData(x.ids64))), len(x.ids64)))
	} else {
		writeU32s(x.ids32)
	}
	var rec [10]byte
	writeStr := func(id int64, s string) {
		binary.LittleEndian.PutUint64(rec[:8], uint64(id))
		binary.LittleEndian.PutUint16(rec[8:], uint16(len(s)))
		write(rec[:])
		write([]byte(s))
	}
	for _, p := range x.patterns {
		writeStr(p.id, p.glob)
	}
	nLong := 0
	for _, l := range x.long {
		for _, m := range l {
			writeStr(m.id, m.mark)
			nLong++
		}
	}
	if err != nil {
		return err
	}
	if err := w.Flush(); err != nil {
		return err
	}
	h := make([]byte, headerLen)
	copy(h, snapMagic)
	binary.LittleEndian.PutUint32(h[8:], snapVersion)
	binary.LittleEndian.PutUint32(h[12:], idWidth)
	binary.LittleEndian.PutUint64(h[16:], uint64(generation))
	binary.LittleEndian.PutUint64(h[24:], uint64(len(x.keys)))
	binary.LittleEndian.PutUint32(h[32:], uint32(len(x.patterns)))
	binary.LittleEndian.PutUint32(h[36:], uint32(nLong))
	binary.LittleEndian.PutUint64(h[40:], uint64(n))
	binary.LittleEndian.PutUint32(h[48:], crc.Sum32())
	binary.LittleEndian.PutUint32(h[52:], crc32.Checksum(h[:52], castagnoli))
	if _, err := f.WriteAt(h, 0); err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(f.Name(), path); err != nil {
		return err
	}
	// Make the rename durable too; some file systems refuse to sync a
	// directory, which is not worth failing for.
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
	return nil
}

// LoadSnapshot reads an index written by WriteSnapshot and returns it with
// the source generation it was built from. A truncated or damaged file, or
// one of another version, gives an error wrapping ErrCorruptSnapshot; a
// missing one, an error satisfying errors.Is(err, fs.ErrNotExist).
func LoadSnapshot(path string) (*Index, int64, error) {
	return loadSnapshot(path, nil)
}

// loadSnapshot is LoadSnapshot that, when want is not nil, stops after the
// header with ErrStaleSnapshot if the generation is not *want.
func loadSnapshot(path string, want *int64) (*Index, int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, 0, fmt.Errorf("load hot-list snapshot: %w", err)
	}
	defer f.Close()
	x, gen, err := readSnapshot(f, want)
	if err != nil {
		return nil, gen, fmt.Errorf("load hot-list snapshot %s: %w", path, err)
	}
	return x, gen, nil
}

func corrupt(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrCorruptSnapshot}, args...)...)
}

func readSnapshot(f *os.File, want *int64) (*Index, int64, error) {
	st, err := f.Stat()
	if err != nil {
		return nil, 0, err
	}
	h := make([]byte, headerLen)
	if _, err := io.ReadFull(f, h); err != nil {
		return nil, 0, corrupt("header: %v", err)
	}
	switch {
	case string(h[:8]) != snapMagic:
		return nil, 0, corrupt("not a hot-list snapshot")
	case crc32.Checksum(h[:52], castagnoli) != binary.LittleEndian.Uint32(h[52:]):
		return nil, 0, corrupt("header checksum mismatch")
	case binary.LittleEndian.Uint32(h[8:]) != snapVersion:
		return nil, 0, corrupt("version %d, want %d", binary.LittleEndian.Uint32(h[8:]), snapVersion)
	}
	idWidth := binary.LittleEndian.Uint32(h[12:])
	gen := int64(binary.LittleEndian.Uint64(h[16:]))
	nKeys := binary.LittleEndian.Uint64(h[24:])
	nPat := binary.LittleEndian.Uint32(h[32:])
	nLong := binary.LittleEndian.Uint32(h[36:])
	bodyLen := binary.LittleEndian.Uint64(h[40:])
	sum := binary.LittleEndian.Uint32(h[48:])
	if want != nil && gen != *want {
		return nil, gen, fmt.Errorf("%w: snapshot generation %d, hot lists %d", ErrStaleSnapshot, gen, *want)
	}
	fixed := 4*uint64(numBuckets+1) + (8+uint64(idWidth))*nKeys
	switch {
	case idWidth != 4 && idWidth != 8:
		return nil, 0, corrupt("id width %d", idWidth)
	case nKeys > math.MaxUint32:
		return nil, 0, corrupt("%d keys", nKeys)
	case uint64(st.Size()) != headerLen+bodyLen:
		return nil, 0, corrupt("file is %d bytes, header says %d (truncated?)", st.Size(), headerLen+bodyLen)
	case bodyLen < fixed+10*(uint64(nPat)+uint64(nLong)):
		return nil, 0, corrupt("body of %d bytes cannot hold its %d keys", bodyLen, nKeys)
	}

	crc := crc32.New(castagnoli)
	r := bufio.NewReaderSize(f, 1<<20)
	read := func(b []byte) error {
		if _, err := io.ReadFull(r, b); err != nil {
			return corrupt("body: %v", err)
		}
		crc.Write(b)
		return nil
	}
	x := &Index{
		bucket: make([]uint32, numBuckets+1),
		keys:   make([]uint64, nKeys),
	}
	if err := read(u32Bytes(x.bucket)); err != nil {
		return nil, 0, err
	}
	if err := read(u64Bytes(x.keys)); err != nil {
		return nil, 0, err
	}
	if idWidth == 8 {
		x.ids64 = make([]int64, nKeys)
		if err := read(i64Bytes(x.ids64)); err != nil {
			return nil, 0, err
		}
	} else {
		x.ids32 = make([]uint32, nKeys)
		if err := read(u32Bytes(x.ids32)); err != nil {
			return nil, 0, err
		}
	}
	if !littleEndian {
		swapBytes(x)
	}
	var rec [10]byte
	readStr := func() (int64, string, error) {
		if err := read(rec[:]); err != nil {
			return 0, "", err
		}
		n := binary.LittleEndian.Uint16(rec[8:])
		if n == 0 || n > maxStrLen {
			return 0, "", corrupt("string of %d bytes", n)
		}
		b := make([]byte, n)
		if err := read(b); err != nil {
			return 0, "", err
		}
		return int64(binary.LittleEndian.Uint64(rec[:8])), string(b), nil
	}
	for range nPat {
		id, s, err := readStr()
		if err != nil {
			return nil, 0, err
		}
		x.patterns = append(x.patterns, newPattern(id, s))
	}
	for range nLong {
		id, s, err := readStr()
		if err != nil {
			return nil, 0, err
		}
		if x.long == nil {
			x.long = make(map[string][]longMark)
		}
		k := vrm.FoldString(s)
		x.long[k] = append(x.long[k], longMark{id: id, mark: s})
	}
	x.indexPatterns()
	if _, err := r.ReadByte(); err != io.EOF {
		return nil, 0, corrupt("data after the last record")
	}
	if crc.Sum32() != sum {
		return nil, 0, corrupt("body checksum mismatch")
	}
	// The checksum catches damage; these checks keep a well-formed but
	// wrong file from making lookups index out of range.
	if x.bucket[0] != 0 || uint64(x.bucket[numBuckets]) != nKeys {
		return nil, 0, corrupt("bucket table does not cover the keys")
	}
	for i := 1; i <= numBuckets; i++ {
		if x.bucket[i] < x.bucket[i-1] {
			return nil, 0, corrupt("bucket table is not ordered")
		}
	}
	return x, gen, nil
}

func u64Bytes(s []uint64) []byte {
	if len(s) == 0 {
		return nil
	}
	return unsafe.Slice((*byte)(unsafe.Pointer(&s[0])), 8*len(s))
}

func i64Bytes(s []int64) []byte {
	if len(s) == 0 {
		return nil
	}
	return unsafe.Slice((*byte)(unsafe.Pointer(&s[0])), 8*len(s))
}

func u32Bytes(s []uint32) []byte {
	if len(s) == 0 {
		return nil
	}
	return unsafe.Slice((*byte)(unsafe.Pointer(&s[0])), 4*len(s))
}

// swapBytes turns little-endian arrays read on a big-endian machine into
// native ones.
func swapBytes(x *Index) {
	for i, v := range x.bucket {
		x.bucket[i] = binary.LittleEndian.Uint32(binary.NativeEndian.AppendUint32(nil, v))
	}
	for i, v := range x.keys {
		x.keys[i] = binary.LittleEndian.Uint64(binary.NativeEndian.AppendUint64(nil, v))
	}
	for i, v := range x.ids32 {
		x.ids32[i] = binary.LittleEndian.Uint32(binary.NativeEndian.AppendUint32(nil, v))
	}
	for i, v := range x.ids64 {
		x.ids64[i] = int64(binary.LittleEndian.Uint64(binary.NativeEndian.AppendUint64(nil, uint64(v))))
	}
}
