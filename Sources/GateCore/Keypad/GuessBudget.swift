/// How many PINs an attacker can try, and how long until a first hit: the numbers behind the PIN threat
/// model (docs/privacy.md) and `optgate config check`.
public enum GuessBudget {
    /// The most wrong PINs one scope with `limit` failures can be made to check within `period`, from a
    /// fresh counter, whatever the attacker's timing.
    ///
    /// The attacker's choices at each moment are: a burst of `limit` guesses (which locks for the
    /// streak's next lockout), a paced batch of `limit − 1` (which stays under the window and waits for it
    /// to empty), or either followed by the quiet period that resets the streak. A dynamic programme over
    /// whole seconds picks the best sequence; durations are rounded down, so the bound errs high.
    public static func maximumGuesses(rules: LockoutRules, limit: Int, period: Duration = .seconds(86_400)) -> Int {
        let horizon = max(seconds(period), 1)
        let window = max(seconds(rules.window), 1)
        let reset = max(seconds(rules.reset), 1)
        var lockouts: [Int] = []
        while lockouts.count < 64 {
            let duration = max(seconds(rules.lockout(level: lockouts.count)), 1)
            lockouts.append(duration)
            if rules.lockout(level: lockouts.count) == rules.lockout(level: lockouts.count - 1) { break }
        }
        let levels = lockouts.count
        // best[t][level]: the most guesses made before second t, arriving at t with that streak level.
        var best = [Int](repeating: -1, count: horizon * levels)
        best[0] = 0
        var answer = 0
        func reach(_ time: Int, _ level: Int, _ guesses: Int) {
            answer = max(answer, guesses)
            if time < horizon, best[time * levels + level] < guesses { best[time * levels + level] = guesses }
        }
        for time in 0..<horizon {
            for level in 0..<levels where best[time * levels + level] >= 0 {
                let made = best[time * levels + level]
                let next = min(level + 1, levels - 1)
                let lockout = lockouts[level]
                reach(time + lockout, next, made + limit)
                reach(time + max(lockout, reset), 0, made + limit)
                if limit > 1 {
                    reach(time + window, level, made + limit - 1)
                    reach(time + reset, 0, made + limit - 1)
                }
            }
        }
        return answer
    }

    /// The PINs of `digits` digits an attacker must choose among.
    public static func pinSpace(digits: Int) -> Double {
        var space = 1.0
        for _ in 0..<digits { space *= 10 }
        return space
    }

    /// Expected guesses until the first hit when `holders` distinct PINs hide among `space`, guessed
    /// without repetition: (space + 1) / (holders + 1).
    public static func expectedGuesses(space: Double, holders: Int) -> Double? {
        guard holders > 0 else { return nil }
        return (space + 1) / Double(holders + 1)
    }

    private static func seconds(_ duration: Duration) -> Int {
        Int(duration.components.seconds)
    }
}
