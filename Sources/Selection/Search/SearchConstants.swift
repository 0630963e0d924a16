/// The constants of the nearest-centroid and nearest-target searches, in two groups.
///
/// Tuning constants change only the time a search takes, never an answer: the tests compare every
/// pruned answer with the dense pass (``DenseNearestCentroids``) whatever they are, and the
/// benchmarks chose them. Exactness constants are what makes a pruned answer equal the dense one;
/// loosening one can change a pick. The row block size is ``RowPartition/blockRows`` for every
/// blocked loop: blocks start where a distributed pool's ranges may, so a selection is the same for
/// any number of processes.
enum SearchTuning {
    /// The most groups of ``GroupBoundSearch``, whatever K: the bounds take 4·G bytes per sample.
    static let largestGroupCount = 64
    /// A sample whose uncertain groups hold more than this share of the centroids goes to the dense
    /// pass (a blocked sgemm does those comparisons faster than dot products one by one).
    static let groupCompareShare = 0.4
    /// From this many centroids on, pruning uses ``CandidateSearch`` instead of group bounds: there
    /// groups of hundreds of centroids stop pruning while the centroids move fast.
    static let groupedFrom = 2048
    /// Candidates each sample keeps between calls of ``CandidateSearch``.
    static let candidateCount = 4
    /// The target search's slack is this many times the centroids' last largest movement…
    static let slackPerMovement: Float = 4
    /// …unless that exceeds this: while the centroids move this fast no bound lasts, so none is sought.
    static let largestSlack: Float = 0.03
    /// In a call over every row, the centroids that moved furthest since the previous call are compared
    /// with every sample (one sgemm per block of rows) and the bound grows by the largest movement of
    /// the others: a few centroids move several times as far as most.
    static let fastestCount = 32
    /// Queries per parallel chunk of a ``NearestTargetSearch`` (its blocks share scratch buffers).
    static let chunkRows = 4096
    /// Near-ties a ``NearestTargetSearch`` tracks per query before it compares it with every target.
    static let nearSlots = 8
}

enum SearchExactness {
    /// How far a best similarity must beat every other similarity or bound to be settled by a pruned
    /// test, and the window of near-ties the dense rule re-ranks by ``dot(_:_:count:)``: sgemm and
    /// stored-bound rounding is ~1e-6 on unit rows, so rounding never decides.
    static let margin: Float = 1e-4
    /// Centroid movements are enlarged by this relative amount: features are unit only up to float rounding.
    static let movementEnlargement = 1e-6
    /// A target group's angular radius is enlarged by this many radians, so that rounding in the
    /// centre's float copy never makes a bound too small.
    static let radiusEnlargement = 1e-3
}
