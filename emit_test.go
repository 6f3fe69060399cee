package pipelog_test

import (
	"context"
	"fmt"
	"os/exec"
	"runtime"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pipelog/pipelog"
	"github.com/pipelog/pipelog/event"
)

// keptBase is where SelfBased.EventBase would keep its receiver.
var keptBase *SelfBased

// SelfBased embeds Base and also has an EventBase method of its own that
// keeps its receiver. pipelog must never call it: an event is read at
// offsets computed once per type, never through the event's methods.
type SelfBased struct {
	event.Base
	N int
}

func (s *SelfBased) EventBase() *event.Base { keptBase = s; return &s.Base }

// keptStringer is where Keeper.String keeps its receiver.
var keptStringer *Keeper

// Keeper is a field type whose String method (pointer receiver) keeps its
// receiver: the encoder must hand it memory that outlives Emit, never the
// caller's stack.
type Keeper struct{ N int }

func (k *Keeper) String() string { keptStringer = k; return fmt.Sprint("keeper-", k.N) }

type WithKeeper struct {
	event.Base
	K Keeper
}

// scribble overwrites a good part of the stack below the caller.
//
//go:noinline
func scribble(depth int) int {
	var buf [256]byte
	for i := range buf {
		buf[i] = 0x5a
	}
	if depth == 0 {
		return int(buf[7])
	}
	return scribble(depth-1) + int(buf[depth%256])
}

func TestEventMethodsAreNeverCalled(t *testing.T) {
	log, mem, errs := newLogger(t, pipelog.Config{})
	func() {
		pipelog.Emit(context.Background(), log, SelfBased{Base: event.Info("self"), N: 42})
	}()
	scribble(64)
	runtime.GC()
	require.Nil(t, keptBase, "Emit called the event's own EventBase method")
	lines := decode(t, mem)
	require.Len(t, lines, 1)
	assert.Equal(t, 42.0, field(lines[0], "Pipelog.SelfBased.N"))
	assert.Empty(t, *errs)
}

func TestMethodsThatKeepTheirReceiverSeeHeapMemory(t *testing.T) {
	log, mem, _ := newLogger(t, pipelog.Config{})
	func() {
		pipelog.Emit(context.Background(), log, WithKeeper{Base: event.Info("k"), K: Keeper{N: 42}})
	}()
	scribble(64)
	runtime.GC()
	require.NotNil(t, keptStringer)
	assert.Equal(t, 42, keptStringer.N, "the String method was handed memory that did not outlive Emit")
	lines := decode(t, mem)
	require.Len(t, lines, 1)
	assert.Equal(t, "keeper-42", field(lines[0], "Pipelog.WithKeeper.K"))
}

func TestOnlyEventsCompile(t *testing.T) {
	out, err := exec.Command("go", "build", "-o", "/dev/null", "./testdata/notanevent").CombinedOutput()
	require.Error(t, err, "a type that does not embed event.Base compiled as an event")
	assert.Contains(t, string(out), "does not satisfy event.Event", "%s", out)
}

func TestPointerEvents(t *testing.T) {
	log, mem, errs := newLogger(t, pipelog.Config{})
	ev := &BadRequestReceived{Base: event.Warn("by pointer"), Path: "/p", Tenant: "acme"}
	pipelog.Emit(context.Background(), log, ev)
	var nilEv *BadRequestReceived
	pipelog.Emit(context.Background(), log, nilEv)
	lines := decode(t, mem)
	require.Len(t, lines, 2)
	assert.Equal(t, "warn", lines[0]["log.level"])
	assert.Equal(t, "BadRequestReceived", field(lines[0], "event.action"), "a pointer event is named by the type it points to")
	assert.Equal(t, "/p", field(lines[0], "url.path"))
	assert.Equal(t, "acme", field(lines[0], "Pipelog.BadRequestReceived.Tenant"))
	assert.Equal(t, "info", lines[1]["log.level"])
	assert.Equal(t, "BadRequestReceived", field(lines[1], "event.action"))
	encErrs, _ := field(lines[1], "Pipelog.encode_errors").([]any)
	require.Len(t, encErrs, 1)
	assert.True(t, strings.Contains(fmt.Sprint(encErrs[0]), "nil *BadRequestReceived"), "%v", encErrs)
	assert.Empty(t, *errs)
}
