"""``python -m training [options]`` trains and publishes; ``python -m training evaluate ...``
scores a stored version on a data file."""

import sys

if len(sys.argv) > 1 and sys.argv[1] == "evaluate":
    from .evaluate import main as evaluate

    sys.exit(evaluate(sys.argv[2:]))

from .train import main

sys.exit(main())
