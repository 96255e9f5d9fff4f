from tohyo.cli import main

raise SystemExit(main())
