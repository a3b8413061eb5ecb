"""PURE account primitives: password hashing and the random tokens behind sessions, invites and CSRF."""
