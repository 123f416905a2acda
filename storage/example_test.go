package storage_test

import (
	"context"
	"fmt"
	"log"
	"os"

	"github.com/plexusone/omnitoken/core"
	"github.com/plexusone/omnitoken/storage"
)

// Store credentials as goauth JSON files in a directory, and read them
// back.
func ExampleNew() {
	dir, err := os.MkdirTemp("", "omnitoken-example-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)

	fv, err := storage.NewFileVault(dir) // <dir>/credentials/<name>.json, 0600
	if err != nil {
		log.Fatal(err)
	}
	defer fv.Close()
	st, err := storage.New(fv, storage.Options{})
	if err != nil {
		log.Fatal(err)
	}

	ctx := context.Background()
	c, err := core.ParseCredentials([]byte(`{"service":"github","type":"basic","basic":{"username":"octocat","password":"s3cret"}}`))
	if err != nil {
		log.Fatal(err)
	}
	if err := st.SetCredentials(ctx, "github/work", c); err != nil {
		log.Fatal(err)
	}

	names, _ := st.ListCredentials(ctx)
	fmt.Println(names)
	p, _ := st.CredentialsPath("github/work")
	fmt.Println(p)
	got, _ := st.GetCredentials(ctx, "github/work")
	fmt.Println(got) // credentials redact themselves
	// Output:
	// [github/work]
	// credentials/github%2Fwork
	// Credentials{service="github" type="basic" sections=basic}
}

// Names map to one path segment each, reversibly: lower-case letters,
// digits, '-', '_' and '.' stay readable, anything else is escaped, upper
// case included, so that "GitHub" and "github" stay apart on
// case-insensitive file systems too.
func ExampleEscapeName() {
	for _, name := range []string{"github", "GitHub", "github/work", "../etc"} {
		seg, _ := storage.EscapeName(name)
		back, _ := storage.UnescapeName(seg)
		fmt.Printf("%-12s %-16s %s\n", name, seg, back)
	}
	// Output:
	// github       github           github
	// GitHub       %47it%48ub       GitHub
	// github/work  github%2Fwork    github/work
	// ../etc       %2E.%2Fetc       ../etc
}
