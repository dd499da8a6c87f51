import CMPI
import LomoCore

/// An element type the collectives move: its MPI datatype. 16-bit floats travel as their bits.
public protocol CollectiveElement: BitwiseCopyable {
  static var datatype: MPI_Datatype { get }
}

/// An element type the collectives can also add, and take the maximum or minimum of.
public protocol ReducibleElement: CollectiveElement {}

extension UInt8: CollectiveElement { public static var datatype: MPI_Datatype { lomo_mpi_byte() } }
extension BFloat16: CollectiveElement { public static var datatype: MPI_Datatype { lomo_mpi_uint16() } }
extension Float16: CollectiveElement { public static var datatype: MPI_Datatype { lomo_mpi_uint16() } }
extension Float: ReducibleElement { public static var datatype: MPI_Datatype { lomo_mpi_float() } }
extension Double: ReducibleElement { public static var datatype: MPI_Datatype { lomo_mpi_double() } }
extension Int64: ReducibleElement { public static var datatype: MPI_Datatype { lomo_mpi_int64() } }

/// How a reduction combines the ranks' values.
public enum Reduction: Sendable {
  case sum, maximum, minimum

  var op: MPI_Op {
    switch self {
    case .sum: lomo_mpi_sum()
    case .maximum: lomo_mpi_max()
    case .minimum: lomo_mpi_min()
    }
  }
}
