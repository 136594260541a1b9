from symnn.cli import main

raise SystemExit(main())
