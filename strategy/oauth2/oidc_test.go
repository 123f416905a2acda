package oauth2_test

func stopOIDC() {}
