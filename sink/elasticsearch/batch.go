package elasticsearch

import (
	"bytes"
	"io"
	"slices"
	"sync"

	"github.com/klauspost/compress/gzip"
)

// esBatch is a bulk request body: action and document lines back to back,
// with each item's offsets. With compression, Write compresses each event
// into z as it is added (the data is still in the CPU cache, and the batch
// never holds a raw copy); buf is then nil until a retry or a dead letter
// needs the raw lines (ensureRaw). Offsets always refer to the raw body.
type esBatch struct {
	buf    []byte
	z      *bytes.Buffer // complete gzip body once cut, or nil
	rawLen int           // length of the raw body
	items  []esItem
	splits uint8 // times halved after a 413
}

type esItem struct {
	start, doc, end uint32 // action line at buf[start:doc], document line at buf[doc:end]
	idStart, idEnd  uint32 // _id (JSON-escaped) within the action line
	retries         uint16
	epoch           uint64
	seq             uint64 // disk queue record, acknowledged when resolved (0: none)
}

func (it *esItem) size() int64 { return int64(it.end - it.start) }

var (
	batchPool = sync.Pool{New: func() any { return new(esBatch) }}
	zbufPool  = sync.Pool{New: func() any { return new(bytes.Buffer) }}
)

func getBatch() *esBatch { return batchPool.Get().(*esBatch) }

func putBatch(b *esBatch) {
	if b.z != nil {
		if b.z.Cap() <= 16<<20 {
			b.z.Reset()
			zbufPool.Put(b.z)
		}
		b.z = nil
	}
	b.rawLen, b.splits = 0, 0
	if cap(b.buf) > 64<<20 {
		return
	}
	b.buf = b.buf[:0]
	b.items = b.items[:0]
	batchPool.Put(b)
}

// ensureRaw gives b its raw body (decompressing z) for the paths that need
// the lines themselves: per-item retries, splits and dead letters.
func ensureRaw(b *esBatch) {
	if b.z == nil || len(b.buf) == b.rawLen {
		return
	}
	zr, err := gzip.NewReader(bytes.NewReader(b.z.Bytes()))
	if err == nil {
		b.buf = slices.Grow(b.buf[:0], b.rawLen)[:b.rawLen]
		_, err = io.ReadFull(zr, b.buf)
	}
	if err != nil {
		// The sink compressed these bytes itself, in memory: failing to
		// read them back is a bug, never an input or network condition.
		panic("sink: elasticsearch: internal error: cannot read back a compressed batch: " + err.Error())
	}
}

func maxRetries(b *esBatch) int {
	m := 0
	for i := range b.items {
		m = max(m, int(b.items[i].retries))
	}
	return m
}

func allIdx(b *esBatch) []int {
	idx := make([]int, len(b.items))
	for i := range idx {
		idx[i] = i
	}
	return idx
}

// subBatch copies the items idx of b into a new batch.
func subBatch(b *esBatch, idx []int) *esBatch {
	ensureRaw(b)
	nb := getBatch()
	for _, i := range idx {
		it := b.items[i]
		off := uint32(len(nb.buf)) - it.start
		nb.buf = append(nb.buf, b.buf[it.start:it.end]...)
		it.start += off
		it.doc += off
		it.end += off
		it.idStart += off
		it.idEnd += off
		nb.items = append(nb.items, it)
	}
	nb.rawLen = len(nb.buf)
	return nb
}

func splitBatch(b *esBatch) []*esBatch {
	half := len(b.items) / 2
	lo, hi := make([]int, 0, half), make([]int, 0, len(b.items)-half)
	for i := range b.items {
		if i < half {
			lo = append(lo, i)
		} else {
			hi = append(hi, i)
		}
	}
	a, c := subBatch(b, lo), subBatch(b, hi)
	a.splits, c.splits = b.splits+1, b.splits+1
	putBatch(b)
	return []*esBatch{c, a} // a runs first (stack)
}
