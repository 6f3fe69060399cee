package elasticsearch

import (
	"bytes"
	"io"

	"github.com/klauspost/compress/gzip"
)

// Write and WriteEntry copy each event into a small chunk, which stays in
// the CPU cache, and hand full chunks to one assembler goroutine, which
// builds the batch's body from them (compressing them, or appending them
// to the raw body) and gives them back to be filled again while they are
// still in cache. So the writer pays one copy into hot memory per event,
// and the assembler the gzip work or the copy into the large body, in
// parallel. The assembler queues each batch for the workers once it is
// complete. Chunks are sent under s.mu, so they arrive in the order the
// events were accepted. With compression the batch keeps only the
// compressed body (ensureRaw restores the raw one for the rare paths that
// need it).

const (
	chunkSize  = 64 << 10
	chunkQueue = 4 // chunks on their way to the assembler
)

// chunk is a piece of a batch's raw body; last marks the end of the batch.
type chunk struct {
	b    *esBatch
	data []byte
	last bool
}

// sendChunkLocked hands the lines gathered for the active batch to the
// assembler; with last, the batch is complete.
func (s *Sink) sendChunkLocked(last bool) {
	s.chunks <- chunk{b: s.active, data: s.chunk, last: last}
	select {
	case s.chunk = <-s.freeChunks:
	default:
		s.chunk = make([]byte, 0, chunkSize+chunkSize/8)
	}
}

// assemble is the assembler goroutine; it ends when Close closes s.chunks.
func (s *Sink) assemble() {
	defer s.assembler.Done()
	var gz *gzip.Writer
	if !s.cfg.DisableCompression {
		gz, _ = gzip.NewWriterLevel(io.Discard, s.cfg.CompressionLevel) // level checked by New
	}
	var spare []byte // a full-size raw body kept for the next batch
	var b *esBatch   // the batch being assembled
	for c := range s.chunks {
		if b == nil {
			b = c.b
			if gz != nil {
				b.buf = nil // only ensureRaw needs one, rarely
				b.z = zbufPool.Get().(*bytes.Buffer)
				gz.Reset(b.z)
			} else if cap(b.buf) < s.cfg.FlushBytes {
				// A pooled body, the spare, or one that need not grow.
				if b.buf, spare = spare, nil; b.buf == nil {
					b.buf = make([]byte, 0, s.cfg.FlushBytes+s.cfg.FlushBytes/4)
				}
			}
		}
		if gz != nil {
			_, _ = gz.Write(c.data) // into a bytes.Buffer: cannot fail
		} else {
			b.buf = append(b.buf, c.data...)
		}
		if cap(c.data) <= 4*chunkSize { // not one huge event's
			select {
			case s.freeChunks <- c.data[:0]:
			default:
			}
		}
		if !c.last {
			continue
		}
		// A batch cut early (by the interval or Flush) must not pin a
		// full-size buffer while it waits: the queue bound counts the
		// bytes used. It gets a tight copy; the big buffer is kept.
		if gz != nil {
			_ = gz.Close() // completes the body
			if c := b.z.Cap(); c >= 64<<10 && b.z.Len() < c/4 {
				big := b.z
				b.z = bytes.NewBuffer(append(make([]byte, 0, big.Len()), big.Bytes()...))
				big.Reset()
				zbufPool.Put(big)
			}
		} else if c := cap(b.buf); c >= 64<<10 && len(b.buf) < c/4 {
			big := b.buf
			b.buf = append(make([]byte, 0, len(big)), big...)
			if cap(spare) < cap(big) {
				spare = big[:0]
			}
		}
		s.enqueue(b)
		b = nil
	}
}

// enqueue hands a complete batch to the workers.
func (s *Sink) enqueue(b *esBatch) {
	s.qmu.Lock()
	s.queue = append(s.queue, b)
	s.qmu.Unlock()
	s.workCond.Signal()
}
