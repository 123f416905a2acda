package redisstore_test

import (
	"encoding/base64"
	"log"
	"os"

	"github.com/plexusone/omnitoken/core"
	"github.com/plexusone/omnitoken/redisstore"
	"github.com/plexusone/omnitoken/storage"
	"github.com/plexusone/omnitoken/strategy/oauth2"
)

// A replica's Manager: credentials and the durable token copy in the
// shared vault, refreshes coordinated on Redis. Every replica runs the
// same code with the same vault, Redis URL and key.
func Example() {
	fv, err := storage.NewFileVault("/var/lib/myservice/vault")
	if err != nil {
		log.Fatal(err)
	}
	defer fv.Close()
	vaultStore, err := storage.New(fv, storage.Options{})
	if err != nil {
		log.Fatal(err)
	}
	client, err := redisstore.NewClient(os.Getenv("OMNITOKEN_REDIS_URL")) // rediss://user:password@host:6380/0
	if err != nil {
		log.Fatal(err)
	}
	defer client.Close()
	key, err := base64.StdEncoding.DecodeString(os.Getenv("OMNITOKEN_REDIS_KEY")) // 32 bytes, the same on every replica
	if err != nil {
		log.Fatal(err)
	}
	cipher, err := redisstore.NewAESGCM(key)
	if err != nil {
		log.Fatal(err)
	}
	store, err := redisstore.NewStore(client, vaultStore, redisstore.StoreOptions{Cipher: cipher})
	if err != nil {
		log.Fatal(err)
	}
	locker, err := redisstore.NewLocker(client, redisstore.LockerOptions{})
	if err != nil {
		log.Fatal(err)
	}
	m, err := core.New(core.Options{
		Store:             store,
		Locker:            locker,
		Strategies:        []core.Strategy{oauth2.New(oauth2.Options{})},
		BackgroundRefresh: true,
	})
	if err != nil {
		log.Fatal(err)
	}
	defer m.Close()
	// m.Token(ctx, "github") now refreshes once per expiry across replicas.
}
