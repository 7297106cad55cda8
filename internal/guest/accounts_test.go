package guest

import (
	"reflect"
	"testing"
)

func TestDropStatementsQuoteNameAndHost(t *testing.T) {
	got, err := dropStatements([]User{{Name: "tf_1_a", Host: "%"}, {Name: "o'brien", Host: "10.0.0.0/255.0.0.0"}})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"DROP USER IF EXISTS 'tf_1_a'@'%'",
		`DROP USER IF EXISTS 'o\'brien'@'10.0.0.0/255.0.0.0'`,
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %q, want %q", got, want)
	}
	if _, err := dropStatements([]User{{Name: ""}}); err == nil {
		t.Fatal("an empty account name was accepted")
	}
	if _, err := dropStatements([]User{{Name: "root", Host: "localhost"}}); err == nil {
		t.Fatal("the library's own root@localhost may be dropped")
	}
}

func TestLikePrefixEscapesWildcards(t *testing.T) {
	for in, want := range map[string]string{
		"tf_":   `tf\_%`,
		"a%b":   `a\%b%`,
		`a\b_c`: `a\\b\_c%`,
	} {
		if got := likePrefix(in); got != want {
			t.Errorf("likePrefix(%q) = %q, want %q", in, got, want)
		}
	}
}
