"""``python -m training [options]`` trains and publishes. Subcommands:

- ``python -m training evaluate ...``: score a stored version on a data file (report and figures);
- ``python -m training agreement FILE...``: labeller agreement of rankings data;
- ``python -m training feedback LOG_DIR --out FILE``: decisions worth a human look, for labelling.
"""

import importlib
import sys

COMMANDS = {"evaluate": "training.evaluate", "agreement": "training.agreement", "feedback": "training.feedback"}

if len(sys.argv) > 1 and sys.argv[1] in COMMANDS:
    sys.exit(importlib.import_module(COMMANDS[sys.argv[1]]).main(sys.argv[2:]))
sys.exit(importlib.import_module("training.train").main())
