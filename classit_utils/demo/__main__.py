"""`python -m classit_utils.demo OUT_DIR [--seed N] [--words-per-source N]`."""
import sys

from .generate import main

if __name__ == "__main__":
    sys.exit(main())
