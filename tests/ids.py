"""Discord ids for tests that build records without the simulation: realistic snowflakes, one place.

Real ids are 64-bit snowflakes, 18-19 decimal digits today (``timestamp_ms - 2015 epoch << 22 | worker
<< 17 | increment``); small ids like ``10`` hid a bug (a bound of ``< 10**9`` refused every real
server), so tests use values of the real size. The simulation mints its own, current ones.
"""

from __future__ import annotations

APP = 1085170463539331072  # the bot's application (= its user id)
GUILD = 717346779955331072
OTHER_GUILD = 911586675916931072
CHANNEL = 717361879449731072
OTHER_CHANNEL = 929706069196931072
THREAD = 1424003117875331072
MESSAGE = 1423957819392131072
ROLE = 717709167820931072

# People, by the number small-id tests used to give them (``USERS[1]`` was user 1).
USERS = (
    133117142630531072,
    277362612633731073,
    420158531174531074,
    564041613312131075,
    707924695449731076,
    851807777587331077,
    995328471859331078,
    1139211553996931079,
    1283457024000131080,
    235808804044931081,
)
ALICE, BOB, CAROL, DAVE = USERS[1], USERS[2], USERS[3], USERS[4]
OWNER = 297701631590531072
MOD = 489404812492931072

# Roles, by the number small-id tests used to give them (``ROLES[10]`` was role 10).
ROLES = {n: ROLE + (n << 12) for n in range(100)}
GUILDS = (GUILD, 1004857113398132736, 1188203311562129408)  # ``GUILDS[n]`` was guild n
