package diskqueue

import "syscall"

// Sync is fdatasync(2) on Linux: it flushes the data and the metadata
// needed to read it back, the file size included (the man page says so
// explicitly), but not timestamps. Segments only grow by appends, so what
// a crash must not lose is exactly data + size + block map.
func (f osFile) Sync() error {
	for {
		err := syscall.Fdatasync(int(f.Fd()))
		if err != syscall.EINTR {
			return err
		}
	}
}
