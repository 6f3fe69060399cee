package diskqueue

import (
	"errors"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"sync"
)

// faultFS is an in-memory model of a file system with a page cache: every
// write, truncate and directory change is volatile until the file (or,
// for names, the directory) is fsynced. At the crash point (the crashAt-th
// mutating operation) it freezes: that operation and every later one
// fail, and image() is the disk as a reboot would find it — the synced
// state plus a random subset of the un-synced writes of each file (so
// later writes may survive where earlier ones did not, within a file and
// across files), the last surviving write torn at a random byte, and a
// random prefix of the un-synced directory changes.
type faultFS struct {
	mu      sync.Mutex
	rng     *rand.Rand
	names   map[string]*inode // current directory
	durable map[string]*inode // directory as last synced
	dirOps  []dirOp           // since the last SyncDir
	ops     int
	crashAt int // 0: never
	crashed bool
	crashCh chan struct{} // closed at the crash point
	img     map[string][]byte
}

type inode struct {
	cur     []byte
	synced  []byte
	pending []wop
}

type wop struct {
	off   int64
	data  []byte
	trunc bool
	size  int64
}

type dirOp struct {
	kind     byte // 'c' create, 'r' remove, 'm' rename
	name, to string
	ino      *inode
}

var errCrashed = errors.New("faultfs: crashed")

func newFaultFS(rng *rand.Rand, crashAt int, files map[string][]byte) *faultFS {
	f := &faultFS{rng: rng, names: map[string]*inode{}, durable: map[string]*inode{}, crashAt: crashAt, crashCh: make(chan struct{})}
	for n, b := range files {
		ino := &inode{cur: append([]byte(nil), b...), synced: append([]byte(nil), b...)}
		f.names[n], f.durable[n] = ino, ino
	}
	return f
}

// step counts a mutating operation; it returns errCrashed at and after
// the crash point.
func (f *faultFS) step() error {
	if f.crashed {
		return errCrashed
	}
	f.ops++
	if f.crashAt > 0 && f.ops >= f.crashAt {
		f.crashLocked()
		return errCrashed
	}
	return nil
}

func (f *faultFS) crash() {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.crashed {
		f.crashLocked()
	}
}

func (f *faultFS) crashLocked() {
	f.crashed = true
	close(f.crashCh)
	dir := map[string]*inode{}
	for n, i := range f.durable {
		dir[n] = i
	}
	k := f.rng.IntN(len(f.dirOps) + 1)
	for _, op := range f.dirOps[:k] {
		switch op.kind {
		case 'c':
			dir[op.name] = op.ino
		case 'r':
			delete(dir, op.name)
		case 'm':
			if i, ok := dir[op.name]; ok {
				dir[op.to] = i
				delete(dir, op.name)
			} else {
				dir[op.to] = op.ino
			}
		}
	}
	f.img = map[string][]byte{}
	for n, ino := range dir {
		b := append([]byte(nil), ino.synced...)
		last := -1
		keep := make([]bool, len(ino.pending))
		for j := range ino.pending {
			if f.rng.IntN(2) == 0 {
				keep[j], last = true, j
			}
		}
		for j, w := range ino.pending {
			if !keep[j] {
				continue
			}
			if w.trunc {
				if w.size < int64(len(b)) {
					b = b[:w.size]
				}
				continue
			}
			data := w.data
			if j == last && len(data) > 0 {
				data = data[:f.rng.IntN(len(data)+1)] // torn
			}
			if end := w.off + int64(len(data)); end > int64(len(b)) {
				b = append(b, make([]byte, end-int64(len(b)))...) // a hole reads as zeros
			}
			copy(b[w.off:], data)
		}
		f.img[n] = b
	}
}

func (f *faultFS) image() map[string][]byte {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.img
}

type faultFile struct {
	fs  *faultFS
	ino *inode
	rw  bool
}

func (f *faultFS) OpenFile(name string, flag int, _ fs.FileMode) (File, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.crashed {
		return nil, errCrashed
	}
	ino, ok := f.names[name]
	switch {
	case ok && flag&os.O_EXCL != 0:
		return nil, os.ErrExist
	case !ok && flag&os.O_CREATE == 0:
		return nil, os.ErrNotExist
	case !ok:
		if err := f.step(); err != nil {
			return nil, err
		}
		ino = &inode{}
		f.names[name] = ino
		f.dirOps = append(f.dirOps, dirOp{kind: 'c', name: name, ino: ino})
	}
	if flag&os.O_TRUNC != 0 && len(ino.cur) > 0 {
		if err := f.step(); err != nil {
			return nil, err
		}
		ino.cur = ino.cur[:0]
		ino.pending = append(ino.pending, wop{trunc: true})
	}
	return &faultFile{fs: f, ino: ino, rw: flag&(os.O_WRONLY|os.O_RDWR) != 0}, nil
}

func (f *faultFS) ReadDir(dir string) ([]string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for n := range f.names {
		if filepath.Dir(n) == filepath.Clean(dir) {
			out = append(out, filepath.Base(n))
		}
	}
	sort.Strings(out)
	return out, nil
}

func (f *faultFS) Remove(name string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.step(); err != nil {
		return err
	}
	if _, ok := f.names[name]; !ok {
		return os.ErrNotExist
	}
	delete(f.names, name)
	f.dirOps = append(f.dirOps, dirOp{kind: 'r', name: name})
	return nil
}

func (f *faultFS) Rename(from, to string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.step(); err != nil {
		return err
	}
	ino, ok := f.names[from]
	if !ok {
		return os.ErrNotExist
	}
	f.names[to] = ino
	delete(f.names, from)
	f.dirOps = append(f.dirOps, dirOp{kind: 'm', name: from, to: to, ino: ino})
	return nil
}

func (f *faultFS) MkdirAll(string, fs.FileMode) error { return nil }

func (f *faultFS) SyncDir(string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.step(); err != nil {
		return err
	}
	f.durable = map[string]*inode{}
	for n, i := range f.names {
		f.durable[n] = i
	}
	f.dirOps = nil
	return nil
}

func (h *faultFile) ReadAt(p []byte, off int64) (int, error) {
	h.fs.mu.Lock()
	defer h.fs.mu.Unlock()
	if h.fs.crashed {
		return 0, errCrashed
	}
	if off >= int64(len(h.ino.cur)) {
		return 0, io.EOF
	}
	n := copy(p, h.ino.cur[off:])
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

func (h *faultFile) Write(p []byte) (int, error) {
	h.fs.mu.Lock()
	defer h.fs.mu.Unlock()
	if err := h.fs.step(); err != nil {
		return 0, err
	}
	off := int64(len(h.ino.cur))
	h.ino.cur = append(h.ino.cur, p...)
	h.ino.pending = append(h.ino.pending, wop{off: off, data: append([]byte(nil), p...)})
	return len(p), nil
}

func (h *faultFile) Truncate(size int64) error {
	h.fs.mu.Lock()
	defer h.fs.mu.Unlock()
	if err := h.fs.step(); err != nil {
		return err
	}
	if size < int64(len(h.ino.cur)) {
		h.ino.cur = h.ino.cur[:size]
	}
	h.ino.pending = append(h.ino.pending, wop{trunc: true, size: size})
	return nil
}

func (h *faultFile) Sync() error {
	h.fs.mu.Lock()
	defer h.fs.mu.Unlock()
	if err := h.fs.step(); err != nil {
		return err
	}
	h.ino.synced = append(h.ino.synced[:0:0], h.ino.cur...)
	h.ino.pending = nil
	return nil
}

func (h *faultFile) Size() (int64, error) {
	h.fs.mu.Lock()
	defer h.fs.mu.Unlock()
	return int64(len(h.ino.cur)), nil
}

func (h *faultFile) Close() error { return nil }
