pytest_plugins = ["tests.services", "tests.netns", "tests.fixtures", "tests.worker"]
