package sink

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestDefaultDeadLetterPath(t *testing.T) {
	exe, err := os.Executable()
	require.NoError(t, err)
	name := filepath.Base(exe) + ".deadletter.ndjson"

	t.Run("working directory", func(t *testing.T) {
		t.Setenv(StateDirEnv, "")
		dir := t.TempDir()
		t.Chdir(dir)
		p := DefaultDeadLetterPath()
		wd, err := os.Getwd()
		require.NoError(t, err)
		assert.Equal(t, filepath.Join(wd, name), p)
		assert.NotEqual(t, filepath.Dir(exe), filepath.Dir(p), "never beside the executable")
	})
	t.Run("state directory", func(t *testing.T) {
		dir := t.TempDir()
		t.Setenv(StateDirEnv, filepath.Join(dir, "state"))
		assert.Equal(t, filepath.Join(dir, "state", name), DefaultDeadLetterPath())
	})
}

func TestDeadLetterFileAnnouncesItsPathOnce(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "state", "app.deadletter.ndjson")
	d := NewDeadLetterFile(path)
	var notice bytes.Buffer
	d.notice = &notice
	require.NoError(t, d.Flush(context.Background()))
	assert.Empty(t, notice.String(), "nothing written, nothing announced")
	require.NoError(t, d.Write([]byte("{\"a\":1}\n")))
	require.NoError(t, d.Write([]byte("{\"a\":2}\n")))
	require.NoError(t, d.Close(context.Background()))
	assert.Equal(t, "pipelog: dead letter: writing events that could not be delivered to "+path+"\n", notice.String())
	assert.Equal(t, "{\"a\":1}\n{\"a\":2}\n", readFile(t, path))
	requirePermAtMost(t, path, 0o640)
	requirePermAtMost(t, filepath.Dir(path), 0o750)
}
