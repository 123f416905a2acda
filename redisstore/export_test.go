package redisstore

// CoreAdoptsOnConflict is coreAdoptsOnConflict, for the tests.
const CoreAdoptsOnConflict = coreAdoptsOnConflict
