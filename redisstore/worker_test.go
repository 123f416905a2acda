package redisstore_test

func runWorkerIfRequested() {}
