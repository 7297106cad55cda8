package galeratest

import (
	"testing"
	"time"
)

func TestLongestGapAndFirstAfter(t *testing.T) {
	t0 := time.Date(2026, 11, 22, 20, 0, 0, 0, time.UTC)
	l := &Log{Acked: []Write{
		{Seq: 1, Node: "n1", At: t0.Add(100 * time.Millisecond)},
		{Seq: 2, Node: "n1", At: t0.Add(200 * time.Millisecond)},
		{Seq: 5, Node: "n2", At: t0.Add(4200 * time.Millisecond)},
		{Seq: 6, Node: "n2", At: t0.Add(4300 * time.Millisecond)},
	}}
	gap, from := l.LongestGap(t0)
	if gap != 4*time.Second || !from.Equal(t0.Add(200*time.Millisecond)) {
		t.Fatalf("gap %s from %s", gap, from)
	}
	if w, ok := l.FirstAfter(t0.Add(time.Second)); !ok || w.Seq != 5 || w.Node != "n2" {
		t.Fatalf("first after = %+v %v", w, ok)
	}
	if w, ok := l.LastUpTo(t0.Add(4 * time.Second)); !ok || w.Seq != 2 {
		t.Fatalf("last up to 4s = %+v %v", w, ok)
	}
	if w, ok := l.LastUpTo(t0.Add(4200 * time.Millisecond)); !ok || w.Seq != 5 {
		t.Fatalf("last up to 4.2s = %+v %v", w, ok)
	}
	if _, ok := l.LastUpTo(t0); ok {
		t.Fatal("a write before the first")
	}
	if seen := l.NodesSeen(); seen["n1"] != 2 || seen["n2"] != 2 {
		t.Fatalf("nodes seen %v", seen)
	}
	// Only writes after `since` count, measured from `since`.
	if gap, _ := l.LongestGap(t0.Add(4250 * time.Millisecond)); gap != 50*time.Millisecond {
		t.Fatalf("gap since 4.25s = %s", gap)
	}
}
