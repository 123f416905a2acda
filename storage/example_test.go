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
