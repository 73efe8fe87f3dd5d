"""The hybrid loss of the Recurrent Attention Model.

For a batch of `B` episodes of `T` glimpses, with reward `R = 1` when the class is right:

    cross_entropy = mean_B( -log p(y | x) )                              trains glimpse, core, action
    reinforce     = -mean_B( sum_T( log pi(l_t) * (R - stop_gradient(b_t)) ) )   trains location
    baseline      = mean_{B,T}( (b_t - R)^2 )                            trains baseline
    total         = cross_entropy + reinforce_weight * reinforce + baseline_weight * baseline

With `policy_trains_core`, REINFORCE also trains the core and glimpse networks (the location network
then reads an unstopped h_{t-1}), so `reinforce_weight` sets its share against the cross-entropy.

REINFORCE sums over the steps of an episode (each step's log-probability is weighted by the same
episode reward) and averages over the batch. With `episodes_per_image = M` above 1, a batch of
`batch_size` images holds `B = batch_size * M` episodes: each image is rolled out M times with its
own location noise, the Monte Carlo samples of zhongwen/RAM and tfRAM.

Two options change what REINFORCE sees (not the reported reward, which stays the accuracy):
`reward = "probability"` uses `R = p(y | x)`, the classifier's probability of the true class, and
`advantage_baseline = "episodes"` replaces `b_t` with the mean `R` of the image's other M - 1
episodes (leave-one-out); the baseline network still trains on its squared error.
"""

from ram.backend import tf

# The terms `hybrid_loss` returns, in the order the training loop reports them.
TERMS = ("loss", "cross_entropy", "reinforce", "baseline_loss", "reward")


def hybrid_loss(outputs, labels, config):
    """The hybrid loss terms for one batch (a dict keyed by `TERMS`); `config` needs the loss
    section's fields (a `Config` or `LossConfig`)."""
    logits = outputs["logits"]
    labels = tf.cast(labels, tf.int32)
    cross_entropy = tf.reduce_mean(
        tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits))
    reward = tf.cast(tf.equal(tf.argmax(logits, axis=-1, output_type=tf.int32), labels), tf.float32)
    if config.reward == "probability":
        # The classifier's probability of the true class: a graded reward that also tells a
        # barely right episode from a confident one.
        policy_reward = tf.stop_gradient(
            tf.gather(tf.nn.softmax(logits), labels, axis=-1, batch_dims=1))
    else:
        policy_reward = reward
    baselines = outputs["baselines"]
    if config.advantage_baseline == "episodes":
        # Leave-one-out: each episode is compared with the mean reward of the other episodes of
        # the same image (episodes are image-major), an unbiased baseline that removes how hard
        # the image is. The learned baseline still trains, for its loss and for inspection.
        episodes = config.episodes_per_image
        grouped = tf.reshape(policy_reward, [-1, episodes])
        others = (tf.reduce_sum(grouped, axis=1, keepdims=True) - grouped) / (episodes - 1)
        advantage = tf.reshape(grouped - others, [-1])[:, None]
    else:
        advantage = policy_reward[:, None] - tf.stop_gradient(baselines)
    reinforce = -tf.reduce_mean(tf.reduce_sum(outputs["log_probs"] * advantage, axis=1))
    baseline_loss = tf.reduce_mean(tf.square(baselines - policy_reward[:, None]))
    total = (cross_entropy + config.reinforce_weight * reinforce
             + config.baseline_weight * baseline_loss)
    return {"loss": total, "cross_entropy": cross_entropy, "reinforce": reinforce,
            "baseline_loss": baseline_loss, "reward": tf.reduce_mean(reward)}


def game_loss(outputs, config):
    """The loss terms of a batch of games (`RecurrentAttentionModel.play`), keyed by `TERMS`: no
    classifier, so REINFORCE with the learned baseline trains both policies from the game's final
    reward `R` (1 for a catch), the game actions and the glimpse locations alike:

        reinforce = -mean_B( sum_T( (log pi(a_t) + log pi(l_t)) * (R - stop_gradient(b_t)) ) )
        baseline  = mean_{B,T}( (b_t - R)^2 )
        entropy   = mean_B( sum_T( H(pi(. | h_t)) ) )      of the action policy
        total     = reinforce_weight * reinforce + baseline_weight * baseline
                    - action_entropy_weight * entropy
    """
    reward = outputs["rewards"]
    baselines = outputs["baselines"]
    advantage = reward[:, None] - tf.stop_gradient(baselines)
    log_probs = outputs["log_probs"] + outputs["action_log_probs"]
    reinforce = -tf.reduce_mean(tf.reduce_sum(log_probs * advantage, axis=1))
    baseline_loss = tf.reduce_mean(tf.square(baselines - reward[:, None]))
    entropy = tf.reduce_mean(tf.reduce_sum(outputs["action_entropies"], axis=1))
    total = (config.reinforce_weight * reinforce + config.baseline_weight * baseline_loss
             - config.action_entropy_weight * entropy)
    return {"loss": total,
            "cross_entropy": tf.zeros([]), "reinforce": reinforce,
            "baseline_loss": baseline_loss, "reward": tf.reduce_mean(reward)}
