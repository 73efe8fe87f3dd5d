import time, numpy as np
from ram import quiet
quiet.import_tensorflow()
from ram import config as C, training, play
cfg = C.config_from_module_name("run_catch")
import sys
over = sys.argv[1:]
cfg = cfg.with_overrides(["epochs=5","games_per_epoch=16384","validation_size=500"] + over)
from ram import games
d = games.CatchGames(cfg)
print(play.reference_rates(cfg, d.test_images))
t=time.time()
r = training.train(cfg, "/tmp/catch_out_%d_%d" % (int(time.time()), __import__("os").getpid()), verbose=1, dataset=d)
dt=time.time()-t
print("frames/s", 5*16384*23/r["train_seconds"], r["test_accuracy"], r["test_accuracy_sampled"], r["ball_in_centre"], dt)
