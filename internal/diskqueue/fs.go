package diskqueue

import (
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// FS is the file layer the queue writes through: the operating system's in
// production (OS), a fault-injecting model of it in the crash tests. Names
// are paths; the queue keeps every file in one directory.
type FS interface {
	// OpenFile opens name as os.OpenFile does; the queue uses
	// O_RDONLY, and O_WRONLY|O_CREATE|O_APPEND (|O_EXCL, O_TRUNC).
	OpenFile(name string, flag int, perm fs.FileMode) (File, error)
	ReadDir(dir string) ([]string, error) // names of the entries
	Remove(name string) error
	Rename(oldpath, newpath string) error
	MkdirAll(dir string, perm fs.FileMode) error
	// SyncDir makes the directory's entries (creations, removals,
	// renames) durable.
	SyncDir(dir string) error
}

// File is an open file of an FS. Write appends (files are opened O_APPEND).
type File interface {
	io.ReaderAt
	io.Writer
	Truncate(size int64) error
	Sync() error
	Size() (int64, error)
	Close() error
}

// OS is the FS of the operating system.
var OS FS = osFS{}

type osFS struct{}

type osFile struct{ *os.File }

func (f osFile) Size() (int64, error) {
	fi, err := f.Stat()
	if err != nil {
		return 0, err
	}
	return fi.Size(), nil
}

func (osFS) OpenFile(name string, flag int, perm fs.FileMode) (File, error) {
	f, err := os.OpenFile(name, flag, perm)
	if err != nil {
		return nil, err
	}
	return osFile{f}, nil
}

func (osFS) ReadDir(dir string) ([]string, error) {
	es, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	names := make([]string, len(es))
	for i, e := range es {
		names[i] = e.Name()
	}
	return names, nil
}

func (osFS) Remove(name string) error             { return os.Remove(name) }
func (osFS) Rename(oldpath, newpath string) error { return os.Rename(oldpath, newpath) }
func (osFS) MkdirAll(dir string, perm fs.FileMode) error {
	return os.MkdirAll(dir, perm)
}

func (osFS) SyncDir(dir string) error {
	d, err := os.Open(filepath.Clean(dir))
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}
