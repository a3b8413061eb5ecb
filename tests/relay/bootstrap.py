"""Start one test ActivityRelay: run by .venv-relay/bin/python, never by the project's venv.

    python bootstrap.py CONFIG KEY_PEM LOG_LEVEL

`activityrelay setup` is interactive and makes a 4096-bit key (seconds of CPU), so this stores
a given private key and log level in the relay's database through the relay's own config API
(what `activityrelay config set` does), then hands over to the `activityrelay -c CONFIG run`
entry point in the same process, so a start costs one interpreter.
"""

from __future__ import annotations

import sys
from pathlib import Path


def main() -> None:
    config, key_file, log_level = sys.argv[1:4]

    import relay.state
    from relay.cli import main as relay_main

    state = relay.state.State(config, register_global=True)
    with state.database.session(True) as conn:
        conn.put_config("private-key", Path(key_file).read_text(encoding="ascii"))
        conn.put_config("log-level", log_level)
    state.database.disconnect()
    # `activityrelay` builds its own global State from the config and database just written.
    relay.state.STATE = None

    sys.argv = ["activityrelay", "-c", config, "run"]
    relay_main()


if __name__ == "__main__":
    main()
