"""HTTP plumbing shared by every router: middleware, error rendering, health."""
