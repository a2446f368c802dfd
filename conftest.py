pytest_plugins = ["tests.services", "tests.netns", "tests.fixtures", "tests.worker", "tests.snmp_agents",
                  "tests.snmpsim_agents", "tests.receivers", "tests.discovery_lab",
                  "tests.zabbix_server", "tests.browser_pages"]
