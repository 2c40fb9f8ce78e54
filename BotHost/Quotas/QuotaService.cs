using System.Globalization;
using ChatBot.ChatData.Database;
using ChatBot.ChatData.Usage;
using ChatBot.ChatData.Users;
using Microsoft.EntityFrameworkCore;

namespace ChatBot.BotHost.Quotas;

/// <summary>The limits in force for one user: the role's, with the user's overrides on top. Null means unlimited.</summary>
internal sealed record QuotaLimits(long? DailyTokens, long? MonthlyTokens, int? MessagesPerMinute);

/// <summary>Why a turn is refused, in words the user reads, and when the limit resets.</summary>
internal sealed record QuotaRefusal(string Limit, string Message, DateTime ResetsAt);

/// <summary>What a user has used against their limits.</summary>
internal sealed record QuotaStatus(QuotaLimits Limits, long UsedToday, long UsedThisMonth, DateTime DayResetsAt, DateTime MonthResetsAt);

/// <summary>
/// Token quotas per day and month and a messages-per-minute limit. Every change to a counter is one conditional
/// UPDATE, so concurrent turns of one user (on any number of hosts) neither lose an update nor slip past a limit:
/// a turn is admitted while the counter is below the limit, reserves its estimate, and settles to the real usage.
/// </summary>
internal sealed class QuotaService(IDbContextFactory<ChatDbContext> contexts, TimeProvider clock)
{
    public async Task<QuotaLimits> LimitsAsync(User user, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(user);
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        var role = await db.RoleQuotas.AsNoTracking().SingleOrDefaultAsync(q => q.Role == user.Role, cancellationToken);
        return new QuotaLimits(
            user.DailyTokenQuota ?? role?.DailyTokens,
            user.MonthlyTokenQuota ?? role?.MonthlyTokens,
            user.MessagesPerMinute ?? role?.MessagesPerMinute);
    }

    /// <summary>
    /// Admits one turn in a single transaction: counts the message against the per-minute limit, then, while the
    /// day's and the month's counters are below their limits, reserves <paramref name="estimatedTokens"/> on both.
    /// Nothing is counted when the turn is refused. Settle the reservation with <see cref="SettleAsync"/>.
    /// </summary>
    /// <param name="onAdmitted">More writes of the admitted turn (its question), committed in the same transaction.</param>
    public async Task<QuotaRefusal?> TryAdmitAsync(
        User user,
        QuotaLimits limits,
        long estimatedTokens,
        Func<ChatDbContext, CancellationToken, Task> onAdmitted,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(onAdmitted);
        ArgumentNullException.ThrowIfNull(user);
        ArgumentNullException.ThrowIfNull(limits);
        var now = clock.GetUtcNow().UtcDateTime;
        var minute = new DateTime(now.Year, now.Month, now.Day, now.Hour, now.Minute, 0, DateTimeKind.Utc);
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        db.Database.AutoSavepointsEnabled = false; // a failure rolls the whole admission back; see TryInsertAsync
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        var refusal =
            !await TryAddAsync(db, user.Id, MinutePeriod(minute), 1, limits.MessagesPerMinute, now, cancellationToken) ? RateRefusal(limits, now, minute)
            : !await TryAddAsync(db, user.Id, DayPeriod(now), estimatedTokens, limits.DailyTokens, now, cancellationToken) ? DailyRefusal(limits, now)
            : !await TryAddAsync(db, user.Id, MonthPeriod(now), estimatedTokens, limits.MonthlyTokens, now, cancellationToken) ? MonthlyRefusal(limits, now)
            : null;
        if (refusal is null)
        {
            await onAdmitted(db, cancellationToken);
            await transaction.CommitAsync(cancellationToken);
        }
        else
        {
            await transaction.RollbackAsync(cancellationToken);
        }

        return refusal;
    }

    /// <summary>Gives a reservation back whole (the turn will be retried and admitted again).</summary>
    public async Task ReleaseAsync(Guid userId, Usage.TokenReservation reservation, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(reservation);
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        await SettleAsync(db, userId, reservation.ReservedAt, reservation.Tokens, 0, clock.GetUtcNow().UtcDateTime, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
    }

    /// <summary>Replaces a reservation with the real usage (the difference may be negative), in the caller's transaction.</summary>
    internal static async Task SettleAsync(ChatDbContext db, Guid userId, DateTime reservedAt, long reservedTokens, long actualTokens, DateTime now, CancellationToken cancellationToken)
    {
        var delta = actualTokens - reservedTokens;
        if (delta != 0)
        {
            await TryAddAsync(db, userId, DayPeriod(reservedAt), delta, null, now, cancellationToken);
            await TryAddAsync(db, userId, MonthPeriod(reservedAt), delta, null, now, cancellationToken);
        }
    }

    public async Task<QuotaStatus> StatusAsync(User user, CancellationToken cancellationToken)
    {
        var limits = await LimitsAsync(user, cancellationToken);
        var now = clock.GetUtcNow().UtcDateTime;
        string day = DayPeriod(now), month = MonthPeriod(now);
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        var counters = await db.QuotaCounters.AsNoTracking()
            .Where(c => c.UserId == user.Id && (c.Period == day || c.Period == month))
            .ToDictionaryAsync(c => c.Period, c => c.Used, cancellationToken);
        return new QuotaStatus(limits, counters.GetValueOrDefault(day), counters.GetValueOrDefault(month), NextDay(now), NextMonth(now));
    }

    internal static string DayPeriod(DateTime utc) => QuotaCounter.DayPeriod(utc);

    internal static string MonthPeriod(DateTime utc) => QuotaCounter.MonthPeriod(utc);

    private static string MinutePeriod(DateTime utc) => QuotaCounter.MinutePeriod(utc);

    private static DateTime NextDay(DateTime utc) => utc.Date.AddDays(1);

    private static DateTime NextMonth(DateTime utc) => new DateTime(utc.Year, utc.Month, 1, 0, 0, 0, DateTimeKind.Utc).AddMonths(1);

    private static QuotaRefusal RateRefusal(QuotaLimits limits, DateTime now, DateTime minute)
    {
        var resets = minute.AddMinutes(1);
        var seconds = Math.Max(1, (int)Math.Ceiling((resets - now).TotalSeconds));
        return new QuotaRefusal(
            "messages per minute",
            string.Format(CultureInfo.InvariantCulture, "You are sending messages faster than your limit of {0} a minute. Try again in {1} seconds.", limits.MessagesPerMinute, seconds),
            resets);
    }

    private static QuotaRefusal DailyRefusal(QuotaLimits limits, DateTime now)
    {
        var resets = NextDay(now);
        var left = resets - now;
        return new QuotaRefusal(
            "daily tokens",
            string.Format(CultureInfo.InvariantCulture, "You have used your daily allowance of {0:N0} tokens. It resets at 00:00 UTC, in {1} h {2} min.", limits.DailyTokens, (int)left.TotalHours, left.Minutes),
            resets);
    }

    private static QuotaRefusal MonthlyRefusal(QuotaLimits limits, DateTime now)
    {
        var resets = NextMonth(now);
        return new QuotaRefusal(
            "monthly tokens",
            string.Format(CultureInfo.InvariantCulture, "You have used your monthly allowance of {0:N0} tokens. It resets on {1:d MMMM yyyy} at 00:00 UTC.", limits.MonthlyTokens, resets),
            resets);
    }

    /// <summary>
    /// Adds <paramref name="amount"/> to a counter in one statement, only while it is below <paramref name="limit"/>. A
    /// counter not there yet (a new minute, day or month) is created already holding the amount.
    /// </summary>
    private static async Task<bool> TryAddAsync(ChatDbContext db, Guid userId, string period, long amount, long? limit, DateTime now, CancellationToken cancellationToken)
    {
        for (var attempt = 0; attempt < 2; attempt++)
        {
            var updated = await db.QuotaCounters
                .Where(c => c.UserId == userId && c.Period == period && (limit == null || c.Used < limit))
                .ExecuteUpdateAsync(s => s.SetProperty(c => c.Used, c => c.Used + amount).SetProperty(c => c.UpdatedAt, now), cancellationToken);
            if (updated == 1)
            {
                return true;
            }

            if (await db.QuotaCounters.AnyAsync(c => c.UserId == userId && c.Period == period, cancellationToken))
            {
                return false; // the counter exists and is at its limit
            }

            if (limit is <= 0)
            {
                return false;
            }

            if (await TryInsertAsync(db, new QuotaCounter { UserId = userId, Period = period, Used = amount, UpdatedAt = now }, cancellationToken))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// Creates a counter; false when a concurrent turn created it first. Inside a transaction the insert goes to a
    /// savepoint and a failure rolls back to it: on PostgreSQL the unique-key violation would otherwise abort the
    /// whole transaction. (Only here: the other writes of a turn's transactions fail or commit together, so their
    /// contexts save without EF's automatic savepoints, two statements fewer each.)
    /// </summary>
    private static async Task<bool> TryInsertAsync(ChatDbContext db, QuotaCounter counter, CancellationToken cancellationToken)
    {
        const string Savepoint = "quota_counter";
        var transaction = db.Database.CurrentTransaction;
        if (transaction is not null)
        {
            await transaction.CreateSavepointAsync(Savepoint, cancellationToken);
        }

        db.QuotaCounters.Add(counter);
        try
        {
            await db.SaveChangesAsync(cancellationToken);
            return true;
        }
        catch (DbUpdateException)
        {
            if (transaction is not null)
            {
                await transaction.RollbackToSavepointAsync(Savepoint, cancellationToken);
            }

            return false;
        }
        finally
        {
            db.Entry(counter).State = EntityState.Detached;
        }
    }
}
