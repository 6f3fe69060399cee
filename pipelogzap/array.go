package pipelogzap

import (
	"strconv"
	"sync"
	"time"
	"unsafe"

	"github.com/pipelog/pipelog/internal/encode"
	"go.uber.org/zap/zapcore"
)

// zapArrayEncoder is a zapcore.ArrayEncoder appending one JSON array.
type zapArrayEncoder struct {
	enc      *encode.Encoder
	buf      []byte
	probs    []string
	panicked string // what MarshalLogArray panicked with (guardedMarshal)
}

var zapArrays = sync.Pool{New: func() any { return new(zapArrayEncoder) }}

func getZapArray(enc *encode.Encoder) *zapArrayEncoder {
	ae := zapArrays.Get().(*zapArrayEncoder)
	ae.enc, ae.buf, ae.probs = enc, ae.buf[:0], ae.probs[:0]
	return ae
}

func putZapArray(ae *zapArrayEncoder) {
	if cap(ae.buf) > 64<<10 {
		return
	}
	ae.enc = nil
	zapArrays.Put(ae)
}

// guardedMarshal is marshal behind a recover: false if it panicked.
func (ae *zapArrayEncoder) guardedMarshal(m zapcore.ArrayMarshaler, err *error) (ok bool) {
	defer func() {
		if r := recover(); r != nil {
			ae.panicked, ok = encode.PanicText(r), false
		}
	}()
	*err = ae.marshal(m)
	return true
}

func (ae *zapArrayEncoder) marshal(m zapcore.ArrayMarshaler) error {
	ae.buf = append(ae.buf, '[')
	err := m.MarshalLogArray(ae)
	ae.buf = append(ae.buf, ']')
	return err
}

func (ae *zapArrayEncoder) elem() {
	if n := len(ae.buf); n > 0 && ae.buf[n-1] != '[' {
		ae.buf = append(ae.buf, ',')
	}
}

func (ae *zapArrayEncoder) AppendBool(v bool) { ae.elem(); ae.buf = strconv.AppendBool(ae.buf, v) }
func (ae *zapArrayEncoder) AppendByteString(v []byte) {
	ae.AppendString(unsafe.String(unsafe.SliceData(v), len(v)))
}
func (ae *zapArrayEncoder) AppendComplex128(v complex128) {
	ae.AppendString(strconv.FormatComplex(v, 'g', -1, 128))
}
func (ae *zapArrayEncoder) AppendComplex64(v complex64) {
	ae.AppendString(strconv.FormatComplex(complex128(v), 'g', -1, 64))
}
func (ae *zapArrayEncoder) AppendFloat64(v float64) {
	ae.elem()
	ae.buf = encode.AppendFloatValue(ae.buf, v, 64)
}
func (ae *zapArrayEncoder) AppendFloat32(v float32) {
	ae.elem()
	ae.buf = encode.AppendFloatValue(ae.buf, float64(v), 32)
}
func (ae *zapArrayEncoder) AppendInt(v int)     { ae.AppendInt64(int64(v)) }
func (ae *zapArrayEncoder) AppendInt32(v int32) { ae.AppendInt64(int64(v)) }
func (ae *zapArrayEncoder) AppendInt16(v int16) { ae.AppendInt64(int64(v)) }
func (ae *zapArrayEncoder) AppendInt8(v int8)   { ae.AppendInt64(int64(v)) }
func (ae *zapArrayEncoder) AppendInt64(v int64) {
	ae.elem()
	ae.buf = strconv.AppendInt(ae.buf, v, 10)
}
func (ae *zapArrayEncoder) AppendString(v string) {
	ae.elem()
	ae.buf = ae.enc.AppendStringValue(ae.buf, v)
}
func (ae *zapArrayEncoder) AppendUint(v uint)       { ae.AppendUint64(uint64(v)) }
func (ae *zapArrayEncoder) AppendUint32(v uint32)   { ae.AppendUint64(uint64(v)) }
func (ae *zapArrayEncoder) AppendUint16(v uint16)   { ae.AppendUint64(uint64(v)) }
func (ae *zapArrayEncoder) AppendUint8(v uint8)     { ae.AppendUint64(uint64(v)) }
func (ae *zapArrayEncoder) AppendUintptr(v uintptr) { ae.AppendUint64(uint64(v)) }
func (ae *zapArrayEncoder) AppendUint64(v uint64) {
	ae.elem()
	ae.buf = strconv.AppendUint(ae.buf, v, 10)
}
func (ae *zapArrayEncoder) AppendDuration(v time.Duration) { ae.AppendInt64(int64(v)) }
func (ae *zapArrayEncoder) AppendTime(v time.Time) {
	ae.elem()
	ae.buf = encode.AppendTimeValue(ae.buf, v)
}

func (ae *zapArrayEncoder) AppendArray(m zapcore.ArrayMarshaler) error {
	ae.elem()
	return ae.marshal(m)
}

// AppendObject encodes the object with the same rules as top-level fields
// (dotted keys split, no duplicates), nothing on ECS fields.
func (ae *zapArrayEncoder) AppendObject(m zapcore.ObjectMarshaler) error {
	ae.elem()
	sub := &encode.Attrs{}
	sub.ResetCustom(ae.enc)
	err := m.MarshalLogObject(&zapObjectEncoder{a: sub})
	ae.buf = sub.AppendObject(ae.buf)
	ae.probs = append(ae.probs, sub.Problems()...)
	return err
}

func (ae *zapArrayEncoder) AppendReflected(v any) error {
	ae.elem()
	ae.buf = ae.enc.AppendAnyValue(ae.buf, "array element", v, &ae.probs)
	return nil
}
