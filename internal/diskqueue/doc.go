// Package diskqueue is a crash-safe, append-only record queue in a state
// directory: the durable buffer between the Elasticsearch sink's Write and
// its bulk workers. It may import the standard library only.
//
// # On disk
//
// Records go to segment files (<16 hex digits>.seg, created 0640, at most
// Config.SegmentBytes each), framed as: magic byte, payload length
// (uint32), CRC-32C of both and of the payload, payload (frame.go). The
// directory is fsynced whenever a segment is created or removed. The file
// "ack" holds the position up to which every record has been acknowledged
// (the consumer's Ack, called once Elasticsearch answered for it); it is
// replaced atomically (write ack.tmp, fsync, rename, fsync the directory).
// A process that starts on the directory reads again everything after the
// acknowledged position: delivery is at least once, and the consumer makes
// it exactly once by re-sending each record under the same _id.
//
// # Durability
//
// Config.Sync chooses when an appended record is durable:
//
//   - SyncBatch (default): before Append returns. Appenders that arrive
//     while an fsync is running are written and fsynced together by the
//     next one (group commit), so the fsync rate is bounded by the disk,
//     not by the event rate. A committer goroutine runs the groups back
//     to back (Manual: the appender that finds no write-out running
//     leads it); each appender is woken once, by its group's channel.
//   - SyncInterval: records are written within WriteInterval and fsynced
//     every SyncInterval; a machine crash loses at most that window (a
//     process crash loses only what was not yet written: the last
//     WriteInterval of records, 1 MiB usually, 4 MiB at most).
//   - SyncNone: written, never fsynced (the page cache survives a process
//     kill, not a machine crash).
//
// At Open a torn or corrupt tail (a crash mid-record) is detected by its CRC,
// truncated, counted and reported in Recovery; a corrupt record in the
// middle of a segment is skipped and its position reported. Open never
// fails because of a segment's contents, only because of I/O errors.
//
// # Bounds
//
// The queue holds at most Config.MaxBytes on disk (framing included). A
// full queue applies Config.Full: Block (Append waits for acknowledgements
// to free a segment), DropNewest (Append returns ErrFull) or DropOldest
// (the oldest sealed segment written out entirely is deleted; its unread
// records are counted as dropped). Memory: the records waiting for the next write (outside
// SyncBatch written out from 1 MiB on; while a write or an fsync is slow,
// Append waits for the disk beyond 4 MiB), the reader's buffer (one segment
// at most) and one 24-byte entry per record read and not yet acknowledged.
//
// # Concurrency
//
// Append is safe for concurrent use. One goroutine reads (Next); Ack may be
// called from any goroutine. Close may run while Next waits or reads: a read
// in progress completes first, then Next returns ErrClosed. Open starts one goroutine (write-out, fsync
// interval and checkpoints), and under SyncBatch the committer, unless
// Config.Manual; Close stops them.
//
// # fsync
//
// On Linux a segment's Sync is fdatasync(2) (fs_linux.go): segments only
// grow by appends, and fdatasync flushes the data and the metadata needed
// to read it back, the file size and block map included (the Linux
// fdatasync(2) page names a size change as metadata it does flush); what
// it skips, the timestamps, the queue never reads. Entries in the directory are made
// durable by fsyncing the directory, as before.
package diskqueue
