package storage_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/plexusone/omnitoken/storage"
)

// Move a directory written by omnitoken v0.1.0 to this module's layout,
// giving a name that v0.1.0 stored lossily its "/" back.
func ExampleMigrateV01() {
	dir, err := os.MkdirTemp("", "omnitoken-example-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	// Two credentials as v0.1.0 left them: "GitHub Bot", and "team/slides"
	// stored as team_slides.
	v01 := `{"value": "{\"type\":\"basic\",\"basic\":{\"username\":\"u\",\"password\":\"p\"}}", "metadata": {"tags": {"type": "goauth_credentials"}}}`
	_ = os.MkdirAll(filepath.Join(dir, "credentials"), 0o700)
	for _, f := range []string{"GitHub Bot.json", "team_slides.json"} {
		if err := os.WriteFile(filepath.Join(dir, "credentials", f), []byte(v01), 0o600); err != nil {
			log.Fatal(err)
		}
	}
	layout, _ := storage.DetectLayout(dir)
	fmt.Println("before:", layout)

	moved, err := storage.MigrateV01(context.Background(), dir, storage.MigrateOptions{
		Rename: map[string]string{"team_slides": "team/slides"},
	})
	if err != nil {
		log.Fatal(err)
	}
	for _, m := range moved {
		fmt.Printf("%q → %q\n", m.From, m.To)
	}
	layout, _ = storage.DetectLayout(dir)
	fmt.Println("after:", layout)
	// Output:
	// before: v0.1.0
	// "GitHub Bot" → "GitHub Bot"
	// "team_slides" → "team/slides"
	// after: current
}
