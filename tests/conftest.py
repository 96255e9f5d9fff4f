"""Settings every test process (and the processes it starts) shares."""

import os

# Key files written by `tohyo board …` are encrypted; tests use this passphrase throughout.
os.environ.setdefault("TOHYO_KEY_PASSPHRASE", "tohyo test key passphrase")
