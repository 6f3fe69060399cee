package encode_test

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/pipelog/pipelog/event"
	"github.com/pipelog/pipelog/internal/encode"
)

type describeEmbedded struct {
	Promoted string `json:"promoted"`
}

type jsonItem struct {
	describeEmbedded
	Name    string `json:"name"`
	Skip    int    `json:"-"`
	Count   int    `json:"count,string"`
	Raw     []byte
	private int
}

type DescribeEvent struct {
	event.Base
	describeEmbedded
	Path  string `ecs:"url.path"`
	Label string `ecs:"labels.team"`
	Key   string `json:"a.b" mapping:"text"`
	Items []jsonItem
	Ptr   *struct{ N uint64 }
	When  time.Time
	M     map[string][]int
}

func TestDescribe(t *testing.T) {
	ws, err := encode.Describe(reflect.TypeFor[DescribeEvent]())
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, w := range ws {
		v := w.Value.String()
		if w.List {
			v = "[]" + v
		}
		got[strings.Join(w.Path, "|")] = v + " " + w.GoName + " " + w.ECS + " " + string(w.Tag)
	}
	for path, want := range map[string]string{
		"url|path":                             "string Path url.path ecs:\"url.path\"",
		"labels|team":                          "string Label labels.team ecs:\"labels.team\"",
		"Pipelog|DescribeEvent|promoted":       "string describeEmbedded.Promoted  json:\"promoted\"",
		"Pipelog|DescribeEvent|a.b":            "string Key  json:\"a.b\" mapping:\"text\"",
		"Pipelog|DescribeEvent|Items":          "[]object Items  ",
		"Pipelog|DescribeEvent|Items|promoted": "[]string Items.Promoted  json:\"promoted\"",
		"Pipelog|DescribeEvent|Items|name":     "[]string Items.Name  json:\"name\"",
		"Pipelog|DescribeEvent|Items|count":    "[]int Items.Count  json:\"count,string\"",
		"Pipelog|DescribeEvent|Items|Raw":      "[]bytes Items.Raw  ",
		"Pipelog|DescribeEvent|Ptr":            "object Ptr  ",
		"Pipelog|DescribeEvent|Ptr|N":          "uint Ptr.N  ",
		"Pipelog|DescribeEvent|When":           "time When  ",
		"Pipelog|DescribeEvent|M":              "map M  ",
		"Pipelog|DescribeEvent|M|*":            "[]int M  ",
	} {
		if got[path] != want {
			t.Errorf("%s: %q, want %q", path, got[path], want)
		}
	}
	for path := range got {
		if strings.Contains(path, "Skip") || strings.Contains(path, "private") {
			t.Errorf("%s: encoding/json does not write it", path)
		}
	}
	// A pointer event describes the struct it points to.
	pws, _ := encode.Describe(reflect.TypeFor[*DescribeEvent]())
	if fmt.Sprint(pws) != fmt.Sprint(ws) {
		t.Error("the pointer type is described differently")
	}
	// A type the encoder refuses: Check's error, the bad field left out.
	type Bad struct {
		event.Base
		C  chan int
		OK string
	}
	ws, err = encode.Describe(reflect.TypeFor[Bad]())
	if err == nil || len(ws) != 1 || ws[0].GoName != "OK" {
		t.Fatalf("%v %v", ws, err)
	}
}

func TestLibraryFields(t *testing.T) {
	got := map[string]encode.ValueKind{}
	for _, w := range encode.LibraryFields() {
		got[strings.Join(w.Path, ".")] = w.Value
	}
	for path, want := range map[string]encode.ValueKind{
		"@timestamp": encode.ValueTime, "log.level": encode.ValueString, "ecs.version": encode.ValueString,
		"service.name": encode.ValueString, "event.action": encode.ValueString, "event.id": encode.ValueString,
		"process.pid": encode.ValueInt, "http.response.status_code": encode.ValueInt, "log.origin.file.line": encode.ValueInt,
		"labels": encode.ValueMap, "labels.*": encode.ValueString, "Pipelog.warning": encode.ValueString,
		"Pipelog.encode_errors": encode.ValueString, "error.stack_trace": encode.ValueString, "trace.id": encode.ValueString,
	} {
		if got[path] != want {
			t.Errorf("%s: %v, want %v", path, got[path], want)
		}
	}
}
