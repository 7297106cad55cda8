package guest

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestPickBackup(t *testing.T) {
	t0 := time.Date(2026, 12, 3, 1, 0, 0, 0, time.UTC)
	list := []BackupInfo{
		{ID: "aaaa1111" + strings.Repeat("0", 56), Time: t0, Cluster: "src"},
		{ID: "aaaa2222" + strings.Repeat("0", 56), Time: t0.Add(time.Hour), Cluster: "src"},
		{ID: "bbbb3333" + strings.Repeat("0", 56), Time: t0.Add(2 * time.Hour)},
	}
	if b, err := pickBackup(list[:2], "", "repo"); err != nil || b.ID != list[1].ID {
		t.Errorf("latest: got %v, %v; want the newest", b.ID, err)
	}
	if b, err := pickBackup(list, "aaaa1111", "repo"); err != nil || b.ID != list[0].ID {
		t.Errorf("by prefix: got %v, %v", b.ID, err)
	}
	for id, want := range map[string]string{"aaaa": "ambiguous", "cccc0000": "no backup", "bbbb3333": "not taken by this provider"} {
		if _, err := pickBackup(list, id, "repo"); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("pick %s: error %v, want %q", id, err, want)
		}
	}
	if _, err := pickBackup(nil, "", "repo"); err == nil || !strings.Contains(err.Error(), "no backup in repo") {
		t.Errorf("empty repository: %v", err)
	}
	err := explainResticError(errors.New("Fatal: wrong password or no key found"))
	if !strings.Contains(err.Error(), "the backup key is wrong") {
		t.Errorf("wrong key explained as %v", err)
	}
}
