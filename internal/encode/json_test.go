package encode

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"
)

// TestAppendStringEveryPosition puts each byte that needs attention (and a
// few that do not) at every position of strings of every length up to 40,
// so that the word loop, the overlapping last word and the byte loop all
// meet it: the result must be valid JSON that decodes to what
// encoding/json makes of the same input (invalid UTF-8 as U+FFFD).
func TestAppendStringEveryPosition(t *testing.T) {
	specials := []string{"\"", "\\", "\x00", "\x1f", "\n", "\x7f", "\x80", "\xff", "é", "\u2028", "€", "\xe2\x82", "a"}
	base := "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGH"
	for n := 0; n <= 40; n++ {
		for pos := 0; pos <= n; pos++ {
			for _, sp := range specials {
				in := base[:pos] + sp + base[pos:n]
				for _, prefix := range []string{"", "x", "{"} { // dst empty and not
					got := appendString([]byte(prefix), in, 0)[len(prefix):]
					// keyString, the leaves' copy of the same check, writes
					// the same string after its key (and a comma after "x").
					st := step{key: []byte(`"k":`), qkey: []byte(`"k":"`), suffix: []byte("}")}
					kv := keyString([]byte(prefix), &st, in, 0)[len(prefix):]
					wantKV := `"k":` + string(got) + "}"
					if prefix == "x" {
						wantKV = "," + wantKV
					}
					if string(kv) != wantKV {
						t.Fatalf("%q: keyString wrote %q, want %q", in, kv, wantKV)
					}
					if !json.Valid(got) {
						t.Fatalf("%q: invalid JSON %q", in, got)
					}
					var dec string
					if err := json.Unmarshal(got, &dec); err != nil {
						t.Fatal(err)
					}
					want := strings.ToValidUTF8(in, "\uFFFD")
					if !utf8.ValidString(in) {
						ref, _ := json.Marshal(in)
						_ = json.Unmarshal(ref, &want)
					}
					if dec != want {
						t.Fatalf("%q: decodes to %q, want %q", in, dec, want)
					}
				}
			}
		}
	}
}

// TestAppendStringKeepsWhatIsBeforeIt: the fast path writes into room it
// reserved after dst; what dst held must be untouched, whatever its spare
// capacity.
func TestAppendStringKeepsWhatIsBeforeIt(t *testing.T) {
	for _, c := range []int{0, 3, 8, 64} {
		dst := make([]byte, 3, 3+c)
		copy(dst, "abc")
		out := appendString(dst, "hello, world: a string of some length", 0)
		if string(out[:3]) != "abc" || string(out[3:]) != `"hello, world: a string of some length"` {
			t.Fatalf("cap %d: %q", c, out)
		}
	}
}

func FuzzAppendString(f *testing.F) {
	f.Add("plain", 0)
	f.Add("a\"b\\c\x00\xff\u2028 long enough for the word loop", 16)
	f.Fuzz(func(t *testing.T, s string, max int) {
		max %= 1 << 16
		out := appendString([]byte("{"), s, max)
		if out[0] != '{' {
			t.Fatal("prefix changed")
		}
		if !json.Valid(out[1:]) {
			t.Fatalf("invalid JSON for %q: %q", s, out)
		}
	})
}

// cutPoint never splits a valid rune, never backs off more than three
// bytes, and keeps invalid bytes (which are no rune) where they are.
func TestCutPoint(t *testing.T) {
	for _, s := range []string{strings.Repeat("\x80", 100), strings.Repeat("é", 50), strings.Repeat("😀", 30),
		"ab\xf0\x9f\x98", strings.Repeat("a\xe2\x82", 40), strings.Repeat("日本語", 20)} {
		for max := 1; max < len(s); max++ {
			n := cutPoint(s, max)
			if n > max || n < max-3 {
				t.Fatalf("%q max %d: cut at %d", s, max, n)
			}
			head, tail := s[:n], s[n:]
			if r, size := utf8.DecodeLastRuneInString(head); r == utf8.RuneError && size == 1 {
				// head ends in an invalid byte: it must not be the start of
				// a valid rune completed in tail
				for k := 1; k <= 3 && k <= len(head); k++ {
					if r, sz := utf8.DecodeRuneInString(head[len(head)-k:] + tail); r != utf8.RuneError && sz > k {
						t.Fatalf("%q max %d: cut at %d splits a rune", s, max, n)
					}
				}
			}
		}
	}
}

// appendShortDecimal writes exactly what strconv writes, or declines.
func TestShortDecimalMatchesStrconv(t *testing.T) {
	check := func(f float64) {
		got, ok := appendShortDecimal(nil, f)
		if !ok {
			return
		}
		if want := strconv.AppendFloat(nil, f, 'f', -1, 64); string(got) != string(want) {
			t.Fatalf("%v: got %s, want %s", f, got, want)
		}
	}
	for _, f := range []float64{129.95, 0.1, 0.2, 0.3, 1e-6, 123456789012345, 99999999999999.99, 1.5, -2.25, 3, 1e14 + 0.5,
		0.000001, 1.0000001, 2.675, 1e15 - 1, 4503599627370497, 0.1 + 0.2} {
		check(f)
	}
	r := rand.New(rand.NewPCG(1, 2))
	for range 2_000_000 {
		switch r.IntN(3) {
		case 0:
			check(math.Float64frombits(r.Uint64()))
		case 1: // a few decimals, as logs carry
			check(float64(r.Int64N(1e12)) / pow10[r.IntN(9)])
		case 2:
			check(r.Float64() * math.Pow(10, float64(r.IntN(20)-6)))
		}
	}
	if _, ok := appendShortDecimal(nil, 129.95); !ok {
		t.Error("129.95 not taken by the fast path")
	}
}

func FuzzShortDecimal(f *testing.F) {
	f.Add(129.95)
	f.Add(0.1)
	f.Fuzz(func(t *testing.T, x float64) {
		if got, ok := appendShortDecimal(nil, x); ok {
			if want := strconv.AppendFloat(nil, x, 'f', -1, 64); string(got) != string(want) {
				t.Fatalf("%v: got %s, want %s", x, got, want)
			}
		}
	})
}
