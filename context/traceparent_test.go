package logctx

import (
	"context"
	crand "crypto/rand"
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const (
	tpTraceID = "4bf92f3577b34da6a3b4ce0ff5e1ff2e"
	tpSpanID  = "00f067aa0ba902b7"
	tpValid   = "00-" + tpTraceID + "-" + tpSpanID + "-01"
)

func TestParseTraceparentValid(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		version byte
		flags   byte
		format  string // String() of the result
	}{
		{"spec example sampled", tpValid, 0, 0x01, tpValid},
		{"not sampled", "00-" + tpTraceID + "-" + tpSpanID + "-00", 0, 0x00, "00-" + tpTraceID + "-" + tpSpanID + "-00"},
		{"unknown flags kept", "00-" + tpTraceID + "-" + tpSpanID + "-ff", 0, 0xff, "00-" + tpTraceID + "-" + tpSpanID + "-ff"},
		{"future version exact length", "cc-" + tpTraceID + "-" + tpSpanID + "-01", 0xcc, 0x01, tpValid},
		{"future version with more fields", "01-" + tpTraceID + "-" + tpSpanID + "-01-what-the-future-holds", 0x01, 0x01, tpValid},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tp, err := ParseTraceparent(tc.in)
			require.NoError(t, err)
			assert.Equal(t, tc.version, tp.Version)
			assert.Equal(t, tpTraceID, tp.TraceID)
			assert.Equal(t, tpSpanID, tp.ParentID)
			assert.Equal(t, tc.flags, tp.Flags)
			assert.Equal(t, tc.flags&1 == 1, tp.Sampled())
			assert.Equal(t, tc.format, tp.String())
		})
	}
}

func TestParseTraceparentInvalid(t *testing.T) {
	zeroTrace := strings.Repeat("0", 32)
	zeroSpan := strings.Repeat("0", 16)
	tests := []struct {
		name string
		in   string
	}{
		{"empty", ""},
		{"too short", tpValid[:54]},
		{"version 00 too long", tpValid + "0"},
		{"version 00 with extra field", tpValid + "-00"},
		{"version ff", "ff-" + tpTraceID + "-" + tpSpanID + "-01"},
		{"future version, no dash after flags", "01-" + tpTraceID + "-" + tpSpanID + "-01x"},
		{"future version too short", "01-" + tpTraceID + "-" + tpSpanID + "-0"},
		{"uppercase version", "0A-" + tpTraceID + "-" + tpSpanID + "-01"},
		{"non-hex version", "0g-" + tpTraceID + "-" + tpSpanID + "-01"},
		{"all-zero trace-id", "00-" + zeroTrace + "-" + tpSpanID + "-01"},
		{"all-zero parent-id", "00-" + tpTraceID + "-" + zeroSpan + "-01"},
		{"uppercase trace-id", "00-" + strings.ToUpper(tpTraceID) + "-" + tpSpanID + "-01"},
		{"uppercase parent-id", "00-" + tpTraceID + "-" + strings.ToUpper(tpSpanID) + "-01"},
		{"uppercase flags", "00-" + tpTraceID + "-" + tpSpanID + "-0A"},
		{"non-hex trace-id", "00-" + "x" + tpTraceID[1:] + "-" + tpSpanID + "-01"},
		{"non-hex parent-id", "00-" + tpTraceID + "-" + tpSpanID[:15] + "z-01"},
		{"non-hex flags", "00-" + tpTraceID + "-" + tpSpanID + "-0x"},
		{"short trace-id", "00-" + tpTraceID[:31] + "-" + tpSpanID + "-01a"},
		{"short parent-id", "00-" + tpTraceID + "-" + tpSpanID[:15] + "-01a"},
		{"wrong separator", "00_" + tpTraceID + "-" + tpSpanID + "-01"},
		{"spaces", " 00-" + tpTraceID + "-" + tpSpanID + "-01"},
		{"CRLF", "00-" + tpTraceID + "-" + tpSpanID + "-01\r\n"},
		{"10 KB", strings.Repeat("a", 10<<10)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tp, err := ParseTraceparent(tc.in)
			require.Error(t, err)
			assert.True(t, errors.Is(err, ErrInvalidTraceparent))
			assert.Equal(t, Traceparent{}, tp)
			if len(tc.in) > 0 {
				assert.NotContains(t, err.Error(), tc.in, "error must not echo input")
			}
		})
	}
}

func TestValidIDs(t *testing.T) {
	assert.True(t, ValidTraceID(tpTraceID))
	assert.False(t, ValidTraceID(strings.Repeat("0", 32)))
	assert.False(t, ValidTraceID(strings.ToUpper(tpTraceID)))
	assert.True(t, ValidSpanID(tpSpanID))
	assert.False(t, ValidSpanID(tpTraceID))

	tests := []struct {
		in string
		ok bool
	}{
		{"abc-123", true},
		{"A.b_c:d-e", true},
		{strings.Repeat("a", MaxIDLen), true},
		{strings.Repeat("a", MaxIDLen+1), false},
		{strings.Repeat("a", 10<<10), false},
		{"", false},
		{"a b", false},
		{"a\r\nSet-Cookie: x=y", false},
		{"a,b", false},
		{"é", false},
		{"a\x00", false},
		{"<script>", false},
	}
	for _, tc := range tests {
		assert.Equal(t, tc.ok, ValidID(tc.in), "%q", tc.in)
	}
}

func TestSanitizeTracestate(t *testing.T) {
	long := make([]string, 0, 40)
	for i := range 40 {
		long = append(long, "k"+string(rune('a'+i%26))+string(rune('a'+i/26))+"=v")
	}
	big := "big=" + strings.Repeat("b", 200)
	tests := []struct {
		name string
		in   string
		want string
		ok   bool
	}{
		{"simple", "congo=t61rcWkgMzE", "congo=t61rcWkgMzE", true},
		{"two members", "rojo=00f067aa0ba902b7,congo=t61rcWkgMzE", "rojo=00f067aa0ba902b7,congo=t61rcWkgMzE", true},
		{"multi-tenant key", "fw529a3039@dt=d7", "fw529a3039@dt=d7", true},
		{"optional whitespace", "a=1 ,\tb=2", "a=1 ,\tb=2", true},
		{"empty", "", "", false},
		{"tab inside a member", "a=\t1", "", false},
		{"CR", "a=b\r", "", false},
		{"LF", "a=b\nX-Evil: 1", "", false},
		{"NUL", "a=\x00", "", false},
		{"non-ASCII", "a=é", "", false},
		{"no equals", "garbage", "", false},
		{"uppercase key", "Rojo=1", "", false},
		{"only commas", ",,,", "", false},
		{"too many members truncated", strings.Join(long, ","), strings.Join(long[:32], ","), true},
		{"too long: big member dropped first", strings.Repeat("abcdefghij=0123456789,", 15) + big + ",z=9", strings.Repeat("abcdefghij=0123456789,", 15) + "z=9", true},
		{"too long: cut from the end", strings.Repeat("abcdefghij=0123456789,", 30), strings.Repeat("abcdefghij=0123456789,", 23)[:23*22-1], true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := SanitizeTracestate(tc.in)
			assert.Equal(t, tc.ok, ok)
			if tc.want != "" || !tc.ok {
				assert.Equal(t, tc.want, got)
			}
			assert.LessOrEqual(t, len(got), MaxTracestateLen)
			assert.NotContains(t, got, "\n")
			assert.NotContains(t, got, big)
		})
	}
}

func TestNewIDs(t *testing.T) {
	seen := map[string]bool{}
	for range 1000 {
		tid, sid, cid := NewTraceID(), NewSpanID(), NewCorrelationID()
		require.True(t, ValidTraceID(tid), tid)
		require.True(t, ValidSpanID(sid), sid)
		require.True(t, ValidTraceID(cid), cid)
		require.True(t, ValidID(cid))
		require.False(t, seen[tid] || seen[cid] || seen[sid])
		seen[tid], seen[sid], seen[cid] = true, true, true
		a, b := newTraceAndSpan()
		require.True(t, ValidTraceID(a))
		require.True(t, ValidSpanID(b))
	}
}

func TestFormatTraceparent(t *testing.T) {
	assert.Equal(t, tpValid, FormatTraceparent(tpTraceID, tpSpanID, 1))
	assert.Equal(t, "00-"+tpTraceID+"-"+tpSpanID+"-a3", FormatTraceparent(tpTraceID, tpSpanID, 0xa3))
}

func FuzzParseTraceparent(f *testing.F) {
	for _, s := range []string{
		tpValid,
		"00-" + tpTraceID + "-" + tpSpanID + "-00",
		"cc-" + tpTraceID + "-" + tpSpanID + "-01-extra",
		"ff-" + tpTraceID + "-" + tpSpanID + "-01",
		"00-" + strings.Repeat("0", 32) + "-" + tpSpanID + "-01",
		"",
		"00-",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		tp, err := ParseTraceparent(s)
		if err != nil {
			if !errors.Is(err, ErrInvalidTraceparent) {
				t.Fatalf("error %v does not match ErrInvalidTraceparent", err)
			}
			return
		}
		out := tp.String()
		if tp.Version == 0 && out != s {
			t.Fatalf("re-format of %q = %q", s, out)
		}
		if tp.Version != 0 && out != "00"+s[2:55] {
			t.Fatalf("re-format of future version %q = %q", s, out)
		}
		again, err := ParseTraceparent(out)
		if err != nil {
			t.Fatalf("formatted %q does not parse: %v", out, err)
		}
		if again.TraceID != tp.TraceID || again.ParentID != tp.ParentID || again.Flags != tp.Flags {
			t.Fatalf("round trip %+v != %+v", again, tp)
		}
	})
}

func BenchmarkParseTraceparent(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseTraceparent(tpValid); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkNewTraceID(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		_ = NewTraceID()
	}
}

func BenchmarkNewSpanID(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		_ = NewSpanID()
	}
}

func BenchmarkNewTraceIDParallel(b *testing.B) {
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			_ = NewTraceID()
		}
	})
}

// BenchmarkRandomSource compares the pooled ChaCha8 generator used for IDs
// with reading crypto/rand directly (the choice in randomFill).
func BenchmarkRandomSource(b *testing.B) {
	var buf [16]byte
	b.Run("ChaCha8Pool", func(b *testing.B) {
		for b.Loop() {
			randomFill(buf[:])
		}
	})
	b.Run("CryptoRand", func(b *testing.B) {
		for b.Loop() {
			_, _ = crand.Read(buf[:])
		}
	})
	b.Run("ChaCha8PoolParallel", func(b *testing.B) {
		b.RunParallel(func(pb *testing.PB) {
			var buf [16]byte
			for pb.Next() {
				randomFill(buf[:])
			}
		})
	})
	b.Run("CryptoRandParallel", func(b *testing.B) {
		b.RunParallel(func(pb *testing.PB) {
			var buf [16]byte
			for pb.Next() {
				_, _ = crand.Read(buf[:])
			}
		})
	})
}

func TestStartTrace(t *testing.T) {
	ctx := StartTrace(WithWorker(context.Background(), "job"))
	v := From(ctx)
	assert.True(t, ValidTraceID(v.TraceID))
	assert.True(t, ValidSpanID(v.SpanID))
	assert.Equal(t, v.TraceID, v.CorrelationID)
	assert.Equal(t, v.SpanID, v.TransactionID)
	assert.Equal(t, FlagSampled, v.TraceFlags)
	assert.Equal(t, "job", v.Worker)

	ctx2 := StartTrace(WithCorrelationID(context.Background(), "keep-me"))
	assert.Equal(t, "keep-me", CorrelationID(ctx2))
	assert.NotEqual(t, v.TraceID, TraceID(ctx2))
}
