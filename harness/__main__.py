import sys

from harness.terminal import main

sys.exit(main())
