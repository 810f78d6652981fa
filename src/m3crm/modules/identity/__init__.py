"""Identity (spec Section 1): sign-up, login, sessions, 2FA, phone verification, invitations."""
