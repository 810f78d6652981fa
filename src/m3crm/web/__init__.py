"""Server-rendered pages: shell layout, shared components, built assets."""
