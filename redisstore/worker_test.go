package redisstore_test

import (
	"github.com/plexusone/omnitoken/internal/loadtest"
	"github.com/plexusone/omnitoken/internal/redistest"
)

func runWorkerIfRequested() { loadtest.RunWorkerIfRequestedWith(redisBackend) }

// redisBackend opens a replica's Store and Locker on Redis.
var redisBackend = redistest.Backend(nil)

// replicaEnv is redistest.ReplicaEnv.
var replicaEnv = redistest.ReplicaEnv
